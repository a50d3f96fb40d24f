"""The embedded demo: a real PostgreSQL under the user's data directory, seeded once with a
synthetic ecosystem, a few broken rows and real parse reports, so a newcomer sees a living
system in seconds.

Where: ``$YELLOWTUI_HOME``, else ``platformdirs.user_data_dir("yellowtui")``::

    pgdata/     the embedded server's data (started on open, stopped on close)
    dags/       the factory file of each platform (what the parse loop parses)
    airflow/    AIRFLOW_HOME of the parse processes (and the factory's snapshots)
    demo.json   written once the seed completed; ``--reset`` deletes everything and seeds again

Parse reports come from really running the factory's loader (in a child process, so Airflow's
import never touches this one): full reads, reused unchanged reads, a read after rows changed,
and one parse while the database was unreachable, served from the snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HOME_ENV = "YELLOWTUI_HOME"
DB_NAME = "yellowtui_demo"
#: Bump when the seed changes shape: an older demo database is then seeded again.
SEED_VERSION = 1
PLATFORMS = 2
STREAMS_PER_PLATFORM = 300
BAD_ROWS = 3
SEED = 0
MARKER = "demo.json"
UNREACHABLE_SOCKET = "/nonexistent/yellowtui-demo-outage"


def demo_home() -> Path:
    """``$YELLOWTUI_HOME``, else the user's data directory for yellowtui."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    try:
        from platformdirs import user_data_dir

        return Path(user_data_dir("yellowtui", appauthor=False))
    except ImportError:  # pragma: no cover - platformdirs ships with the tui extra's dependencies
        return Path.home() / ".local" / "share" / "yellowtui"


@dataclass
class Demo:
    """A running demo database and what the dashboard needs to know about it."""

    home: Path
    url: str
    server: Any
    label: str
    dags_folder: Path
    parse_env: dict[str, str] = field(default_factory=dict)
    seeded_now: bool = False


def _paths(home: Path) -> dict[str, Path]:
    return {"pgdata": home / "pgdata", "dags": home / "dags", "airflow": home / "airflow", "marker": home / MARKER}


def snapshot_dir(home: Path) -> Path:
    """Where the factory keeps its snapshots for the demo: AIRFLOW_HOME/yellow_snapshots, as the
    parse loop's children (AIRFLOW_HOME set to ours) find it too."""
    return _paths(home)["airflow"] / "yellow_snapshots"


def reset_demo(home: Path, log: Callable[[str], None] = lambda _: None) -> None:
    """Stop the demo server if it runs, then delete everything the demo keeps."""
    paths = _paths(home)
    if (paths["pgdata"] / "PG_VERSION").exists():
        from simulators.postgres import start_postgres

        try:
            start_postgres(paths["pgdata"]).stop()
        except Exception as exc:  # a broken data dir is deleted all the same
            log(f"note: could not stop the old demo server cleanly: {exc}")
    for key in ("marker", "pgdata", "dags", "airflow"):
        path = paths[key]
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
    log(f"Deleted the demo under {home}")


@contextmanager
def open_demo(
    *,
    reset: bool = False,
    home: Path | None = None,
    log: Callable[[str], None] = lambda _: None,
    streams_per_platform: int | None = None,
    bad: int = BAD_ROWS,
    seed: int = SEED,
) -> Iterator[Demo]:
    """Start (and on first use seed) the demo database; stop the server when the block ends.

    ``streams_per_platform`` (default :data:`STREAMS_PER_PLATFORM`) applies when the demo is
    seeded; a demo seeded before with another size is kept, and the log says how to reseed it."""
    from factory.db import dispose_engines
    from simulators.postgres import start_postgres

    home = Path(home) if home is not None else demo_home()
    if reset:
        reset_demo(home, log)
    paths = _paths(home)
    home.mkdir(parents=True, exist_ok=True)
    log(f"Starting the embedded PostgreSQL in {paths['pgdata']} …")
    server = start_postgres(paths["pgdata"])
    try:
        url = server.create_database(DB_NAME)
        seeded_now = False
        if not _is_seeded(paths["marker"], url):
            _recreate_database(server, url)
            size = STREAMS_PER_PLATFORM if streams_per_platform is None else streams_per_platform
            seed_demo(url, home, log=log, streams_per_platform=size, bad=bad, seed=seed)
            seeded_now = True
        elif streams_per_platform is not None and (seeded := _seeded_size(paths["marker"])) != streams_per_platform:
            log(
                f"note: the demo was seeded with {seeded} streams per platform; "
                f"add --reset to seed it again with {streams_per_platform}"
            )
        from yellowtui.services.config_service import ConfigService

        demo = Demo(
            home=home,
            url=url,
            server=server,
            label=f"embedded demo · {ConfigService(url).short_url}",
            dags_folder=paths["dags"],
            parse_env={"AIRFLOW_HOME": str(paths["airflow"])},
            seeded_now=seeded_now,
        )
        yield demo
    finally:
        dispose_engines()
        server.stop()
        log("Stopped the embedded PostgreSQL.")


def _is_seeded(marker: Path, url: str) -> bool:
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if data.get("version") != SEED_VERSION:
        return False
    from yellowtui.services.config_service import ConfigService

    try:
        return bool(ConfigService(url).platforms())
    except Exception:
        return False


def _seeded_size(marker: Path) -> int | None:
    """Streams per platform the demo was seeded with, from its marker."""
    try:
        platforms = json.loads(marker.read_text(encoding="utf-8"))["platforms"]
        return max(int(p["streams"]) for p in platforms.values())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _recreate_database(server: Any, url: str) -> None:
    """Start from an empty database (a half-finished seed must not linger)."""
    from sqlalchemy import create_engine, text

    from factory.db import dispose_engines

    dispose_engines()
    engine = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    finally:
        engine.dispose()


def seed_demo(
    url: str,
    home: Path,
    *,
    log: Callable[[str], None] = lambda _: None,
    streams_per_platform: int = STREAMS_PER_PLATFORM,
    bad: int = BAD_ROWS,
    seed: int = SEED,
    record_parses: bool = True,
) -> dict[str, Any]:
    """Seed ``url`` with the demo ecosystem, broken rows and real parse reports; write the marker."""
    from simulators.ecosystem import generate_ecosystem, seed_database

    paths = _paths(home)
    log(
        f"Seeding the demo database (first run only): {PLATFORMS} platforms × {streams_per_platform} streams, "
        f"{bad} broken rows each …"
    )
    eco = generate_ecosystem(PLATFORMS, streams_per_platform, seed)
    summary = seed_database(url, eco, bad=bad, seed=seed, dags_folder=paths["dags"])
    if record_parses:
        log("Recording parse reports by running the factory's loader (Airflow import, a few seconds) …")
        record_demo_parses(url, sorted(summary["platforms"]), home)
    paths["marker"].write_text(
        json.dumps(
            {
                "version": SEED_VERSION,
                "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "platforms": {k: {"streams": v["streams"], "bad": v["bad"]} for k, v in summary["platforms"].items()},
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return summary


def record_demo_parses(url: str, platforms: list[str], home: Path) -> None:
    """Run the loader in a child process (its own AIRFLOW_HOME) so it records real parse reports."""
    paths = _paths(home)
    paths["airflow"].mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AIRFLOW_HOME": str(paths["airflow"]), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    env.pop("YELLOW_SNAPSHOT_DIR", None)
    args = json.dumps({"url": url, "platforms": platforms, "snapshot_dir": str(snapshot_dir(home))})
    code = "import sys; from yellowtui.demo import _record_parses_child; _record_parses_child(sys.argv[1])"
    proc = subprocess.run(
        [sys.executable, "-c", code, args], env=env, check=False, capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"recording demo parse reports failed (exit {proc.returncode}):\n{tail}")


def _record_parses_child(args_json: str) -> None:
    """In the child: a realistic little history of parses for each platform."""
    import logging

    from factory import store
    from factory.db import get_engine
    from factory.enums import RowStatus
    from factory.loader import load_platform

    logging.getLogger("yellow.factory").setLevel(logging.CRITICAL)
    args = json.loads(args_json)
    url, snap = args["url"], Path(args["snapshot_dir"])
    unreachable = f"postgresql+psycopg2://postgres@/{DB_NAME}?host={UNREACHABLE_SOCKET}"

    def parse(platform: str, db: str = url) -> None:
        load_platform(platform, url=db, conn_id=None, dag_id=None, snapshot_dir=snap)

    for platform in args["platforms"]:
        parse(platform)  # full read: validate and build everything
        parse(platform)  # unchanged: reuse the validated configs
        parse(platform)
        with get_engine(url).begin() as conn:  # an operator pauses one stream and edits another
            rows = [
                r
                for r in store.read_rows(conn, platform, status=RowStatus.ACTIVE)
                if not r.stream_key.startswith("Broken")
            ]
            if len(rows) >= 2:
                store.write_row(
                    conn, platform, rows[0].stream_key, rows[0].config_json, RowStatus.PAUSED, actor="demo-operator"
                )
                config = json.loads(rows[1].config_json)
                config["schedule"] = "*/10 * * * *"
                store.write_row(
                    conn,
                    platform,
                    rows[1].stream_key,
                    json.dumps(config, sort_keys=True, separators=(",", ":")),
                    RowStatus.ACTIVE,
                    actor="demo-operator",
                )
        parse(platform)  # rows changed: a full read again
        parse(platform, unreachable)  # the database is unreachable: built from the snapshot (report spooled)
        parse(platform)  # back: unchanged, and the spooled snapshot report is written
        parse(platform)


def main(argv: list[str] | None = None) -> int:
    """``python -m yellowtui.demo [--reset] [--home DIR]``: seed (or reset) the demo database only."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m yellowtui.demo", description=main.__doc__)
    parser.add_argument("--reset", action="store_true", help="delete the demo and seed it again")
    parser.add_argument("--home", type=Path, help=f"demo directory (default: ${HOME_ENV} or the user data dir)")
    args = parser.parse_args(argv)
    with open_demo(reset=args.reset, home=args.home, log=lambda line: print(line, file=sys.stderr)) as demo:
        print(f"demo database ready: {demo.label}" + (" (seeded now)" if demo.seeded_now else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
