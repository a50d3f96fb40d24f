"""Record what a real Airflow answered the dashboard, and replay it: deterministic pictures of
the runs screen without starting Airflow.

:class:`RecordingAirflowService` is an :class:`AirflowService` that keeps the JSON answer of
every read it makes, keyed by the client method and its arguments; :func:`save_capture` writes
them (the last answer of each), with the time the recording ended, as a small JSON file.
:class:`ReplayAirflowService` answers the same reads from that file and nothing else: a read the
capture does not hold is an :class:`~factory.errors.AirflowNotFound`, a write is refused.
Snapshot tests run it with the app's clock fixed at the capture's ``captured_at``, so every
relative time ("3m ago") comes out the same.

The capture is recorded by ``python -m tools.runs_screens --record FILE``, from real runs.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factory.errors import AirflowNotFound, ReadOnlyError
from yellowtui.services.airflow_service import AirflowService, AirflowSettings

#: What a replayed dashboard shows as its Airflow (the recording's port changes every run).
REPLAY_URL = "http://127.0.0.1:8080"
_SUFFIX = "_without_preload_content"


def capture_key(method: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    """``get_dag_runs ["~"] {"limit": 100, ...}``: the read, independent of the server's address."""
    name = getattr(method, "__name__", str(method)).removesuffix(_SUFFIX)
    return f"{name} {json.dumps(list(args), default=str)} {json.dumps(dict(kwargs), sort_keys=True, default=str)}"


class RecordingAirflowService(AirflowService):
    """A real service that also keeps every read's JSON answer (writes are sent, not kept)."""

    def __init__(self, settings: AirflowSettings) -> None:
        # Reads the replay can ask again: never "changed since" a moment that will not come back.
        super().__init__(replace(settings, full_runs_every=1))
        self.answers: dict[str, Any] = {}
        self._answers_lock = threading.Lock()

    def _call(
        self,
        what: str,
        method: Callable[..., Any],
        *args: Any,
        raw: bool = False,
        idempotent: bool = True,
        **kwargs: Any,
    ) -> Any:
        result = super()._call(what, method, *args, raw=raw, idempotent=idempotent, **kwargs)
        if raw and idempotent and not method.__name__.startswith(("patch_", "trigger_", "clear_")):
            with self._answers_lock:
                self.answers[capture_key(method, args, kwargs)] = copy.deepcopy(result)
        return result


class ReplayAirflowService(AirflowService):
    """Answers reads from a capture (see the module docstring); sends nothing anywhere."""

    def __init__(self, capture: Mapping[str, Any]) -> None:
        # Every refresh reads all the runs: a read "changed since <now>" was never recorded.
        super().__init__(AirflowSettings(url=REPLAY_URL, token="replay", page_workers=1, full_runs_every=1))
        self.answers: dict[str, Any] = dict(capture["answers"])

    def with_settings(self, **changes: Any) -> AirflowService:
        replay = ReplayAirflowService({"answers": self.answers})
        replay.settings = replace(self.settings, **changes)
        return replay

    def _call(
        self,
        what: str,
        method: Callable[..., Any],
        *args: Any,
        raw: bool = False,
        idempotent: bool = True,
        **kwargs: Any,
    ) -> Any:
        if not idempotent or method.__name__.startswith(("patch_", "trigger_", "clear_")):
            raise ReadOnlyError(f"replay: refused to {what} (a recorded capture cannot change)")
        key = capture_key(method, args, kwargs)
        with self._count_lock:
            self.requests += 1
        if key not in self.answers:
            raise AirflowNotFound(f"{what}: not in the recorded capture")
        return copy.deepcopy(self.answers[key])


def save_capture(
    path: Path, answers: Mapping[str, Any], captured_at: datetime, scrub: Mapping[str, str] | None = None
) -> None:
    """Write the capture, replacing each ``scrub`` key (a temporary folder, a port) by its value."""
    text = json.dumps({"captured_at": captured_at.astimezone(UTC).isoformat(), "answers": dict(answers)}, indent=1)
    for secret, shown in sorted((scrub or {}).items(), key=lambda item: -len(item[0])):
        text = text.replace(secret, shown)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


def load_capture(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def captured_at(capture: Mapping[str, Any]) -> datetime:
    """When the recording ended, in UTC without a zone (as the app's clock gives it): the
    replay's fixed clock."""
    return datetime.fromisoformat(str(capture["captured_at"])).astimezone(UTC).replace(tzinfo=None)
