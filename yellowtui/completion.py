"""Shell completion for bash, zsh and fish through click's own mechanism.

``yellowtui completion SHELL`` prints the script click generates
(``click.shell_completion.ShellComplete.source``); the shell then calls ``yellowtui`` back with
``_YELLOWTUI_COMPLETE={shell}_complete`` and click resolves the words typed so far with
``resilient_parsing=True``, callbacks included, so ``--profile`` has applied the current profile
before a value is completed. Platform names and stream keys come from that profile's database
(or ``--db`` / ``$YELLOW_DB_URL``) with a one-second connect and statement timeout: an
unreachable database costs a second and completes nothing, it never hangs the shell.

Completers are attached as click's ``shell_complete`` callables (``Parameter._custom_shell_complete``,
what ``click.Option(shell_complete=...)`` sets) to every parameter named ``platform`` or
``stream_key``, and ``profile_name``, walking the command tree.
"""

from __future__ import annotations

import os
from typing import Any

import click
from click.shell_completion import CompletionItem, get_completion_class

from yellowtui.cli.output import fail

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_YELLOWTUI_COMPLETE"
CONNECT_TIMEOUT_S = 1
STATEMENT_TIMEOUT_MS = 800
LIMIT = 200


def _db_url(ctx: click.Context) -> str | None:
    from factory.db import DB_URL_ENV

    for c in (ctx, *_parents(ctx)):
        if url := c.params.get("db_url"):
            return str(url)
    return os.environ.get(DB_URL_ENV) or None


def _parents(ctx: click.Context) -> list[click.Context]:
    out = []
    while ctx.parent is not None:
        ctx = ctx.parent
        out.append(ctx)
    return out


def _query(url: str, fn: Any) -> list[str]:
    """Run ``fn(conn)`` with short timeouts; any failure completes nothing."""
    try:
        from factory.db import get_engine

        engine = get_engine(url, connect_timeout_s=CONNECT_TIMEOUT_S, statement_timeout_ms=STATEMENT_TIMEOUT_MS)
        with engine.connect() as conn:
            return list(fn(conn))
    except Exception:  # completion must never print a traceback into the shell
        return []


def complete_platform(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    url = _db_url(ctx)
    if not url:
        return []
    from factory.store import list_platforms

    return [CompletionItem(p) for p in _query(url, list_platforms) if p.startswith(incomplete.lower())]


def complete_stream_key(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    url = _db_url(ctx)
    if not url:
        return []
    from sqlalchemy import select

    from factory.store import list_platforms
    from factory.tables import platform_tables

    wanted = ctx.params.get("platform")

    def keys(conn: Any) -> list[str]:
        found: list[str] = []
        for platform in [str(wanted).lower()] if wanted else list_platforms(conn):
            t = platform_tables(platform).dsg
            query = select(t.c.stream_key).where(t.c.stream_key.startswith(incomplete, autoescape=True))
            found += conn.execute(query.order_by(t.c.stream_key).limit(LIMIT)).scalars()
        return sorted(set(found))[:LIMIT]

    return [CompletionItem(k) for k in _query(url, keys)]


def complete_profile(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from yellowtui.profiles import ProfileError, load_profiles

    try:
        names = load_profiles().profiles
    except ProfileError:
        return []
    return [CompletionItem(n) for n in sorted(names) if n.startswith(incomplete)]


_COMPLETERS = {"platform": complete_platform, "stream_key": complete_stream_key, "profile_name": complete_profile}


def install_completers(command: click.Command) -> None:
    """Attach the completers to every matching parameter of ``command`` and its subcommands."""
    for param in command.params:
        completer = _COMPLETERS.get(param.name or "")
        if completer is not None and param._custom_shell_complete is None:
            param._custom_shell_complete = completer
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            install_completers(sub)


@click.command("completion", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion_command(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash: eval "$(yellowtui completion bash)"             (in ~/.bashrc)
    zsh:  eval "$(yellowtui completion zsh)"              (in ~/.zshrc)
    fish: yellowtui completion fish > ~/.config/fish/completions/yellowtui.fish

    Platform names and stream keys complete from the current profile's database.
    """
    root = ctx.find_root().command
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click ships all three
        fail(f"click has no completion for {shell}")
    install_completers(root)
    click.echo(cls(root, {}, "yellowtui", COMPLETE_VAR).source(), nl=False)
