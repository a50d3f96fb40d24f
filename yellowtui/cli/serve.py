"""``yellowtui serve``: the dashboard in a browser, guarded (see :mod:`yellowtui.serve`).

The dashboard processes get the database and Airflow through the environment they inherit
(never on a command line, where ``ps`` would show a password), and the profile by name, so each
shows its name, colour and time zone.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import sys

import click

from yellowtui.cli.core import db_option
from yellowtui.cli.output import fail
from yellowtui.profile_apply import active_profile

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dashboard_command(profile: str | None, read_only: bool) -> str:
    """The shell command textual-serve runs for each browser session."""
    args = [sys.executable, "-m", "yellowtui"]
    if profile:
        args += ["--profile", profile]
    if read_only:
        args.append("--read-only")
    return shlex.join(args)


@click.command("serve", context_settings=CONTEXT)
@db_option
@click.option("--airflow", "airflow_url", metavar="URL", help="Airflow API server (default: $AIRFLOW_API_URL).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any free port.")
@click.option("--allow-writes", is_flag=True, help="Let the browser's dashboards apply changes and write to Airflow.")
@click.option("--allow-remote", is_flag=True, help="Allow a --host other than loopback (plain HTTP: put TLS in front).")
@click.option("--max-sessions", type=click.IntRange(1, 64), default=8, show_default=True, help="Dashboards at once.")
@click.pass_context
def serve(
    ctx: click.Context,
    db_url: str | None,
    airflow_url: str | None,
    host: str,
    port: int,
    allow_writes: bool,
    allow_remote: bool,
    max_sessions: int,
) -> None:
    """Serve the dashboard to a browser through textual-serve.

    \b
    Listens on 127.0.0.1 and serves read-only unless --allow-writes. Prints one URL holding a
    random access token for this run; a request without it gets 401 and starts nothing.
    Each browser tab is its own dashboard process, ended when the tab closes.
    A read-only profile stays read-only with --allow-writes.
    """
    if not is_loopback(host) and not allow_remote:
        fail(
            f"refusing to listen on {host}: anyone who can reach this machine could try the dashboard, and the "
            "connection is plain HTTP, so the token and everything shown travel unencrypted. Keep the default "
            "127.0.0.1 (use an SSH tunnel), or pass --allow-remote behind a TLS proxy if you mean it.",
            2,
        )
    root = ctx.find_root().params
    db_url = db_url or root.get("db_url")
    airflow_url = airflow_url or root.get("airflow_url")
    if not db_url:
        fail("serve needs a config database: --db URL, $YELLOW_DB_URL or a profile's db_url", 2)
    from factory.db import DB_URL_ENV, check_url
    from factory.errors import DatabaseURLError
    from yellowtui.serve import GuardedServer, bind, new_token
    from yellowtui.services.airflow.settings import API_URL_ENV

    try:
        check_url(db_url)
    except DatabaseURLError as exc:
        fail(str(exc), 2)
    profile = active_profile(ctx)
    try:
        sock = bind(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 2)
    title = f"yellowtui · {profile.name}" if profile else "yellowtui"
    command = dashboard_command(profile.name if profile else None, read_only=not allow_writes)
    # The sessions inherit the URLs from the environment, never from their command line; set
    # only while serving, so a caller in the same process (a test, a script) gets its own back.
    inherited = {DB_URL_ENV: db_url, **({API_URL_ENV: airflow_url} if airflow_url else {})}
    saved = {name: os.environ.get(name) for name in inherited}
    os.environ.update(inherited)
    try:
        GuardedServer(command, sock, new_token(), title=title, max_sessions=max_sessions).run()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
