"""Run the simulated DAG processor (``simulators.parse_loop``) against the dashboard's database,
so parse reports, and so the timing screen, come alive when no Airflow is parsing the factory."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from factory.db import normalize_url

if TYPE_CHECKING:
    from simulators.parse_loop import ParseRun


@dataclass(frozen=True)
class ParseInfo:
    """What one parse of the loop did, for a notification (the full report is in the database)."""

    ok: bool
    summary: str
    source: str | None
    dags: int
    import_errors: int
    wall_ms: float

    @classmethod
    def of(cls, run: ParseRun) -> ParseInfo:
        result = run.load_result or {}
        return cls(run.ok, run.summary(), result.get("source"), run.dags, len(run.import_errors), run.wall_ms)


class ParseLoopService:
    """Parse one platform's factory file in fresh processes, every ``interval`` seconds.

    ``dags_folder``: where the factory file is (rendered there when missing; a temporary folder
    when None). ``airflow_home``: the parse children's AIRFLOW_HOME when neither ``env`` nor this
    process sets one, so a user's ~/airflow is never touched (a temporary one when None). The
    caller decides both: the service knows nothing about the demo's layout.
    """

    def __init__(
        self,
        db_url: str,
        dags_folder: Path | None = None,
        env: dict[str, str] | None = None,
        airflow_home: Path | None = None,
    ):
        self.db_url = normalize_url(db_url)
        self.dags_folder = Path(dags_folder) if dags_folder else None
        self.env = dict(env or {})
        self.airflow_home = airflow_home

    def folder(self) -> Path:
        """Where the factory file is (rendered there when missing): the given folder, or a temp one."""
        if self.dags_folder is None:
            self.dags_folder = Path(tempfile.mkdtemp(prefix="yellowtui-dags-"))
        return self.dags_folder

    def child_env(self) -> dict[str, str]:
        env = dict(self.env)
        if "AIRFLOW_HOME" not in env and not os.environ.get("AIRFLOW_HOME"):
            if self.airflow_home is None:
                self.airflow_home = Path(tempfile.mkdtemp(prefix="yellowtui-airflow-"))
            self.airflow_home.mkdir(parents=True, exist_ok=True)
            env["AIRFLOW_HOME"] = str(self.airflow_home)
        return env

    def run(
        self,
        platform: str,
        stop: threading.Event,
        on_parse: Callable[[ParseInfo], object],
        interval: float = 2.0,
        count: int | None = None,
    ) -> int:
        """Blocks until ``stop`` is set (or ``count`` parses); returns the number of parses."""
        from simulators.parse_loop import run_parse_loop

        runs = run_parse_loop(
            self.db_url,
            platform,
            self.folder(),
            interval=interval,
            count=count,
            stop=stop,
            on_parse=lambda run: on_parse(ParseInfo.of(run)),
            env=self.child_env(),
        )
        return len(runs)
