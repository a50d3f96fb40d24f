"""What the command line prints, made safe: the one output module of every command.

Every text passes one redaction step (:func:`safe`: passwords and tokens in any URL, also one
that cannot be parsed, and every secret of a URL this process used) and then
:func:`yellowtui.presenters.safe_text.visible`, so no credential, control character or escape
sequence is ever written, and Rich never reads it as markup: consoles are made with
``markup=False`` and table cells are literal :class:`rich.text.Text`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click

from yellowtui.presenters.safe_text import json_visible, visible

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


def safe(message: Any) -> str:
    """The one redaction step: ``message`` as text with every credential hidden."""
    from factory.redact import redact_text

    return redact_text(message if isinstance(message, str) else str(message))


def echo(message: Any = "", *, err: bool = False, nl: bool = True, file: IO[Any] | None = None) -> None:
    """``click.echo``, redacted, control characters shown as escapes (newlines and tabs kept)."""
    click.echo(visible(safe(message), keep_newlines=True, keep_tabs=True), err=err, nl=nl, file=file)


def secho(message: Any = "", *, err: bool = False, nl: bool = True, **styles: Any) -> None:
    """``click.secho``, redacted, control characters shown as escapes; click adds the styles."""
    click.secho(visible(safe(message), keep_newlines=True, keep_tabs=True), err=err, nl=nl, **styles)


def dumps(data: Any) -> str:
    """JSON for people and scripts: the same data, redacted, with every character that could act
    on a terminal written as a ``\\uXXXX`` escape."""
    return json_visible(safe(json.dumps(data, indent=2, default=str, ensure_ascii=False)))


def dump(data: Any) -> None:
    click.echo(dumps(data))


def cell(value: Any, style: str = "") -> Text:
    """A literal Rich table cell or line: redacted, never markup, control characters escaped."""
    from rich.text import Text

    return Text(visible(safe(value)), style=style)


def console(*, stderr: bool = False, soft_wrap: bool = True) -> Console:
    """A Rich console that never reads markup, emoji codes or highlights from the text it prints."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=soft_wrap, markup=False, emoji=False)


def fail(message: str, code: int = 2) -> NoReturn:
    """One red line on stderr, credentials hidden and control characters escaped; then exit."""
    secho(f"error: {message}", fg="red", err=True)
    sys.exit(int(code))


def write_output(path: Path, text: str) -> None:
    """Write an -o file whole (a temporary file, then a rename) or say in one line why not."""
    from factory.files import write_atomic

    if not path.parent.is_dir():
        fail(f"cannot write {path}: the folder {path.parent} does not exist", 2)
    try:
        write_atomic(path, text)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}", 2)


def print_or_write(text: str, output: Path | None) -> None:
    """A document (a JSON Schema, ...) on stdout, or into ``output`` with one line on stderr saying so."""
    if output:
        write_output(output, text + "\n")
        echo(f"wrote {output}", err=True)
    else:
        echo(text)
