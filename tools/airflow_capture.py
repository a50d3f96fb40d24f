"""Record what a real Airflow answered the dashboard, and replay it: deterministic pictures of
the runs screen without starting Airflow.

Both go through the service's public seam, its transport (see
:class:`~yellowtui.services.airflow.transport.Transport`). :class:`RecordingTransport` sends
every call through a real :class:`~yellowtui.services.airflow.transport.HttpTransport` and keeps
the JSON answer of every read, keyed by the client method and its arguments; :func:`save_capture`
writes them (the last answer of each), with the time the recording ended, as a small JSON file.
:class:`ReplayTransport` answers the same reads from that file and nothing else: a read the
capture does not hold is an :class:`~factory.errors.AirflowNotFound`, a write is refused.
:class:`RecordingAirflowService` and :class:`ReplayAirflowService` are the service over each.
Snapshot tests run the replay with the app's clock fixed at the capture's ``captured_at``, so
every relative time ("3m ago") comes out the same.

The capture is recorded by ``python -m tools.runs_screens --record FILE``, from real runs.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factory.errors import AirflowNotFound, ReadOnlyError
from yellowtui.services.airflow.service import AirflowService
from yellowtui.services.airflow.settings import AirflowSettings
from yellowtui.services.airflow.transport import ApiCall, HttpTransport, Transport

#: What a replayed dashboard shows as its Airflow (the recording's port changes every run).
REPLAY_URL = "http://127.0.0.1:8080"


def capture_key(call: ApiCall) -> str:
    """``get_dag_runs [] {"limit": 100, ...}``: the read, independent of the server's address."""
    return (
        f"{call.operation} {json.dumps(list(call.args), default=str)} "
        f"{json.dumps(dict(call.kwargs), sort_keys=True, default=str)}"
    )


def _changes_airflow(call: ApiCall) -> bool:
    """A call a capture neither keeps nor answers: one that may not be repeated, or a write."""
    return not call.idempotent or call.operation.startswith(("patch_", "trigger_", "clear_"))


class RecordingTransport:
    """A real transport that also keeps every read's JSON answer (writes are sent, not kept)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.answers: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def requests(self) -> int:
        return self.inner.requests

    @property
    def renewals(self) -> int:
        return self.inner.renewals

    @property
    def server_offset_s(self) -> float:
        return self.inner.server_offset_s

    def send(self, call: ApiCall) -> Any:
        result = self.inner.send(call)
        if not _changes_airflow(call):
            with self._lock:
                self.answers[capture_key(call)] = copy.deepcopy(result)
        return result

    def with_settings(self, settings: AirflowSettings) -> Transport:
        """A plain transport of the inner kind: only this one records (as before the seam)."""
        return self.inner.with_settings(settings)


class ReplayTransport:
    """Answers reads from a capture's answers (see the module docstring); sends nothing anywhere."""

    renewals = 0
    server_offset_s = 0.0

    def __init__(self, answers: Mapping[str, Any]) -> None:
        self.answers: dict[str, Any] = dict(answers)
        self.requests = 0
        self._lock = threading.Lock()

    def send(self, call: ApiCall) -> Any:
        if _changes_airflow(call):
            raise ReadOnlyError(f"replay: refused to {call.what} (a recorded capture cannot change)")
        with self._lock:
            self.requests += 1
        key = capture_key(call)
        if key not in self.answers:
            raise AirflowNotFound(f"{call.what}: not in the recorded capture")
        return copy.deepcopy(self.answers[key])

    def with_settings(self, settings: AirflowSettings) -> Transport:
        """The same answers, counted afresh."""
        return ReplayTransport(self.answers)


class RecordingAirflowService(AirflowService):
    """A real service whose reads are recorded (:attr:`answers`)."""

    def __init__(self, settings: AirflowSettings) -> None:
        # Reads the replay can ask again: never "changed since" a moment that will not come back.
        settings = replace(settings, full_runs_every=1)
        self.recorder = RecordingTransport(HttpTransport(settings))
        super().__init__(settings, transport=self.recorder)

    @property
    def answers(self) -> dict[str, Any]:
        return self.recorder.answers


class ReplayAirflowService(AirflowService):
    """The service over a capture (see the module docstring)."""

    def __init__(self, capture: Mapping[str, Any]) -> None:
        # Every refresh reads all the runs: a read "changed since <now>" was never recorded.
        settings = AirflowSettings(url=REPLAY_URL, token="replay", page_workers=1, full_runs_every=1)
        super().__init__(settings, transport=ReplayTransport(capture["answers"]))


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
