"""Ask Airflow to parse the factory files that hold changed streams, instead of waiting for it.

Airflow's DAG processor re-parses a file every ``min_file_process_interval`` (30 s by default);
``PUT /api/v2/parseDagFile/{file_token}`` puts the file first in its queue (measured: a change
served 1.1-1.6 s after the request, against 17-31 s without). The token is Airflow's signed name
of a file (``DAGResponse.file_token``, in ``airflow/api_fastapi/core_api/datamodels/dags.py``),
listed with every DAG, so one list of the platform's DAGs gives the token of every factory file
that has at least one DAG; it cannot be made up here (it is signed with the API server's key).

A split platform has several factory files: each changed stream names its home file under the
platform's layout (:meth:`factory.split.Layout.place`: a file, and the DAG bundle it is in), and
also the file that defines its DAG now when that differs (it must drop the DAG). Files are named
as reports name them, ``yellow-{j}/`` before a file outside Airflow's default bundle
(:func:`factory.bundles.shown_name`): the same file name can be in two bundles while a change of
the bundle count hands over, and each copy has its own token: the token is the signed pair
``(bundle_name, relative_fileloc)``, which ``reparse_dag_file`` turns into a
``DagPriorityParsingRequest`` for that bundle's file
(``airflow/api_fastapi/core_api/routes/public/dag_parsing.py``). A refused or failed request is
reported, never raised: the change still goes live at the file's next scheduled parse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from factory.bundles import DEFAULT_BUNDLE, shown_name
from factory.errors import AirflowError
from factory.names import platform_slug, stream_key_from_dag_id
from factory.split import Layout
from yellowtui.services.airflow.models import DagState
from yellowtui.services.airflow.service import AirflowService


def _base(path: str | None) -> str:
    return (path or "").replace("\\", "/").rsplit("/", 1)[-1]


def file_of_dag(dag: DagState) -> str:
    """The file defining ``dag`` as reports name it: its name, after its bundle's outside Airflow's default."""
    name = _base(dag.file)
    return name if dag.bundle in (None, DEFAULT_BUNDLE) else f"{dag.bundle}/{name}"


@dataclass(frozen=True)
class FileParse:
    """One factory file: the changed streams it holds, and what became of its parse request."""

    file: str
    streams: tuple[str, ...]
    sent: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "streams": list(self.streams), "sent": self.sent, "message": self.message}


@dataclass(frozen=True)
class ParseRequests:
    """What was asked of Airflow after a change; ``note`` says why nothing was (read-only, ...)."""

    platform: str
    files: tuple[FileParse, ...] = ()
    note: str = ""

    @property
    def all_sent(self) -> bool:
        return bool(self.files) and all(f.sent for f in self.files)

    def lines(self) -> list[str]:
        """One line per file (or the note): what an operator reads after ``apply``."""
        if self.note:
            return [self.note]
        return [
            f"parse requested: {f.file} ({len(f.streams)} changed stream(s))"
            if f.sent
            else f"no parse request for {f.file}: {f.message}; it goes live at the file's next scheduled parse"
            for f in self.files
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"platform": self.platform, "note": self.note or None, "files": [f.to_dict() for f in self.files]}


def files_of(
    platform: str, keys: Iterable[str], dags: Iterable[DagState], layout: Layout | None = None
) -> dict[str, set[str]]:
    """File -> the changed streams it must parse: each stream's home file under ``layout`` (one
    file in the default bundle when None), and the file that defines its DAG now if that is
    another one (another file, or the same file in another bundle)."""
    slug = platform_slug(platform)
    layout = layout or Layout()
    where = {stream_key_from_dag_id(slug, d.dag_id): file_of_dag(d) for d in dags if d.file and not d.is_stale}
    wanted: dict[str, set[str]] = {}
    for key in keys:
        for name in {shown_name(layout.place(key), slug), where.get(key)}:
            if name:
                wanted.setdefault(name, set()).add(key)
    return wanted


def request_parses(
    service: AirflowService | None, platform: str, keys: Iterable[str], *, layout: Layout | None = None
) -> ParseRequests:
    """Request a parse of each factory file holding one of ``keys`` (see the module docstring).

    Costs one list of the platform's DAGs (its pages) and one ``PUT`` per file. Never raises:
    Airflow not configured, read-only, unreachable or refusing is said in the result."""
    slug = platform_slug(platform)
    keys = sorted(set(keys))
    if not keys:
        return ParseRequests(slug, note="no stream changed: no parse requested")
    if service is None:
        return ParseRequests(
            slug,
            note="no Airflow configured (--airflow or AIRFLOW_API_URL): no parse requested; "
            "the change goes live at Airflow's next scheduled parse",
        )
    if service.settings.read_only:
        return ParseRequests(
            slug,
            note="--read-only: no parse request sent; the change goes live at Airflow's next scheduled parse",
        )
    try:
        dags = service.dags(f"{slug}__")
    except AirflowError as exc:
        return ParseRequests(slug, note=f"no parse requested: {exc}; the change goes live at the next scheduled parse")
    tokens: dict[str, str] = {}
    for dag in dags:
        if dag.file_token and dag.file:
            tokens.setdefault(file_of_dag(dag), dag.file_token)
    done: list[FileParse] = []
    for name, streams in sorted(files_of(slug, keys, dags, layout).items()):
        token = tokens.get(name)
        if token is None:
            done.append(FileParse(name, tuple(sorted(streams)), False, "Airflow lists no DAG of this file yet"))
            continue
        try:
            service.request_parse(token, name)
        except AirflowError as exc:
            done.append(FileParse(name, tuple(sorted(streams)), False, f"refused: {exc}"))
        else:
            done.append(FileParse(name, tuple(sorted(streams)), True, "requested"))
    return ParseRequests(slug, tuple(done))
