"""Run the simulated DAG processor (``simulators.parse_loop``) against the dashboard's database,
so parse reports, and so the timing screen, come alive when no Airflow is parsing the factory."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from factory.db import normalize_url


def private_airflow_home() -> Path:
    """An AIRFLOW_HOME of our own for the parse children, so a user's ~/airflow is never touched."""
    from yellowtui.demo import demo_home

    path = demo_home() / "airflow"
    path.mkdir(parents=True, exist_ok=True)
    return path


class ParseLoopService:
    """Parse one platform's factory file in fresh processes, every ``interval`` seconds."""

    def __init__(self, db_url: str, dags_folder: Path | None = None, env: dict[str, str] | None = None):
        self.db_url = normalize_url(db_url)
        self.dags_folder = Path(dags_folder) if dags_folder else None
        self.env = dict(env or {})

    def folder(self) -> Path:
        """Where the factory file is (rendered there when missing): the app's dags folder, or a temp one."""
        if self.dags_folder is None:
            self.dags_folder = Path(tempfile.mkdtemp(prefix="yellowtui-dags-"))
        return self.dags_folder

    def child_env(self) -> dict[str, str]:
        env = dict(self.env)
        if "AIRFLOW_HOME" not in env and not os.environ.get("AIRFLOW_HOME"):
            env["AIRFLOW_HOME"] = str(private_airflow_home())
        return env

    def run(
        self,
        platform: str,
        stop: threading.Event,
        on_parse: Callable[[dict[str, Any]], None],
        interval: float = 2.0,
        count: int | None = None,
    ) -> int:
        """Blocks until ``stop`` is set (or ``count`` parses); returns the number of parses."""
        from simulators.parse_loop import run_parse_loop

        def report(run: Any) -> None:
            lr = run.load_result or {}
            on_parse(
                {
                    "ok": run.ok,
                    "summary": run.summary(),
                    "source": lr.get("source"),
                    "dags": run.dags,
                    "import_errors": len(run.import_errors),
                    "wall_ms": run.wall_ms,
                }
            )

        runs = run_parse_loop(
            self.db_url,
            platform,
            self.folder(),
            interval=interval,
            count=count,
            stop=stop,
            on_parse=report,
            env=self.child_env(),
        )
        return len(runs)
