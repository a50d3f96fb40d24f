"""What the command line prints, made safe: one place for every CLI module.

Text from data (rows, history, reports, files, Airflow) goes through
:func:`yellowtui.presenters.safe_text.visible` before it reaches the terminal, so no control
character or escape sequence is ever written, and Rich never reads it as markup: consoles are
made with ``markup=False`` and table cells are literal :class:`rich.text.Text`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from yellowtui.presenters.safe_text import json_visible, visible

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

F = TypeVar("F", bound=Callable[..., Any])


def echo(message: Any = "", *, err: bool = False, nl: bool = True, file: IO[Any] | None = None) -> None:
    """``click.echo`` with control characters shown as escapes (newlines and tabs kept)."""
    click.echo(visible(message, keep_newlines=True, keep_tabs=True), err=err, nl=nl, file=file)


def secho(message: Any = "", *, err: bool = False, nl: bool = True, **styles: Any) -> None:
    """``click.secho`` with control characters shown as escapes; click adds the styles."""
    click.secho(visible(message, keep_newlines=True, keep_tabs=True), err=err, nl=nl, **styles)


def dumps(data: Any) -> str:
    """JSON for people and scripts: the same data, with every character that could act on a
    terminal written as a ``\\uXXXX`` escape."""
    return json_visible(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def dump(data: Any) -> None:
    click.echo(dumps(data))


def cell(value: Any, style: str = "") -> Text:
    """A literal Rich table cell or line: never markup, control characters escaped."""
    from rich.text import Text

    return Text(visible(value), style=style)


def console(*, stderr: bool = False, soft_wrap: bool = True) -> Console:
    """A Rich console that never reads markup, emoji codes or highlights from the text it prints."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=soft_wrap, markup=False, emoji=False)


def fail(message: str, code: int = 2) -> NoReturn:
    """One red line on stderr, credentials hidden and control characters escaped; then exit."""
    from factory.redact import redact_text

    secho(f"error: {redact_text(message)}", fg="red", err=True)
    sys.exit(code)


def db_option(f: F) -> F:
    """``--db URL`` (default ``$YELLOW_DB_URL``), the same on every command that reads rows."""
    from factory.db import DB_URL_ENV

    return click.option(
        "--db",
        "db_url",
        envvar=DB_URL_ENV,
        metavar="URL",
        help=f"Config database, e.g. postgresql://user@host/db (default: ${DB_URL_ENV}).",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


def write_output(path: Path, text: str) -> None:
    """Write an -o file whole (a temporary file, then a rename) or say in one line why not."""
    from factory.files import write_atomic

    if not path.parent.is_dir():
        fail(f"cannot write {path}: the folder {path.parent} does not exist", 2)
    try:
        write_atomic(path, text)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}", 2)
