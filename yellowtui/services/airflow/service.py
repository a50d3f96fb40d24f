"""The dashboard's and the command line's one door to Airflow's REST API (v2).

:class:`AirflowService` offers what an operator's tool needs, over a
:class:`~yellowtui.services.airflow.transport.Transport` that handles the token, timeouts,
retries and one-line errors:

- paging past the API's page limit, and one list call where one serves: refreshing a
  platform's DAGs costs ``ceil(dags / page)`` pages plus a few pages of runs, never a request
  per DAG (:attr:`AirflowService.requests` counts them); the pages after the first go out
  together, and between full reads only the runs changed since the last refresh are read;
- lists read as plain JSON into :mod:`~yellowtui.services.airflow.models`;
- every failure as one :class:`~factory.errors.AirflowError` line (unreachable, auth, not
  found, read-only), never a traceback; tokens and passwords are never logged or shown.

Every method blocks: the dashboard calls them from thread workers. Nothing here imports textual;
the REST client is imported on first use.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from factory.errors import ReadOnlyError
from factory.names import platform_slug, stream_key_from_dag_id
from factory.split import split_index
from yellowtui.services.airflow.models import (
    DagState,
    DagVersionState,
    DagWarningState,
    Health,
    ImportErrorState,
    RunState,
    TaskInstanceState,
    dag_from_json,
    dag_version_from_json,
    dag_warning_from_json,
    health_from_json,
    import_error_from_json,
    log_text_from_json,
    run_from_json,
    task_instance_from_json,
    when,
)
from yellowtui.services.airflow.settings import AirflowSettings
from yellowtui.services.airflow.transport import ApiCall, HttpTransport, Transport

T = TypeVar("T")
Page = tuple[list[dict[str, Any]], int | None]

#: How far back "changed since the previous refresh" reaches before that refresh was asked.
CHANGED_MARGIN_S = 15.0


@dataclass(frozen=True)
class _Listing:
    """An offset-paged collection: the call that reads it (``limit`` and ``offset`` are added
    per page) and the key of its items in each page."""

    call: ApiCall
    items: str


@dataclass
class _RecentRuns:
    """A platform's recent runs as last read (raw JSON, newest first, per dag_id), and when, in
    the API server's time."""

    per_dag: int
    since: datetime
    runs: dict[str, list[dict[str, Any]]]
    refreshes: int


def _newest_runs(
    dag_ids: set[str],
    read: Iterable[dict[str, Any]],
    kept: Mapping[str, list[dict[str, Any]]],
    per_dag: int,
) -> dict[str, list[dict[str, Any]]]:
    """Each DAG's ``per_dag`` newest runs from the runs just ``read`` (newest first) and those
    ``kept`` from before; a run read again replaces its kept copy (its state changed)."""
    merged: dict[str, dict[str, dict[str, Any]]] = {d: {} for d in dag_ids}
    for dag_id, runs in kept.items():
        if dag_id in merged:
            merged[dag_id].update((r["dag_run_id"], r) for r in runs)
    fresh: dict[str, set[str]] = {d: set() for d in dag_ids}
    for r in read:  # a run may show twice if runs were added between pages: the first wins
        bucket, seen = merged.get(r["dag_id"]), fresh.get(r["dag_id"])
        if bucket is not None and seen is not None and r["dag_run_id"] not in seen:
            seen.add(r["dag_run_id"])
            bucket[r["dag_run_id"]] = r
    oldest = datetime.min.replace(tzinfo=UTC)
    return {
        dag_id: sorted(runs.values(), key=lambda r: when(r.get("run_after")) or oldest, reverse=True)[:per_dag]
        for dag_id, runs in merged.items()
    }


def _client_models() -> Any:
    """The REST client's request bodies (``DAGPatchBody``...), imported on first use."""
    from airflow_client import client

    return client


class AirflowService:
    """Blocking calls to one Airflow's REST API; see the module docstring for the guarantees.

    ``transport`` sends each call (default: :class:`HttpTransport` over the settings, waiting
    with ``sleep`` between retries); pass another to record or replay Airflow's answers.
    Thread-safe enough for one dashboard worker group at a time: the runs kept between
    refreshes are locked, as pages are fetched from several threads at once.
    """

    def __init__(
        self,
        settings: AirflowSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        transport: Transport | None = None,
    ):
        self.settings = settings
        self.transport: Transport = transport if transport is not None else HttpTransport(settings, sleep=sleep)
        self._lock = threading.Lock()
        #: Each platform's recent runs as last read (see :meth:`list_dags`), by dag_id prefix.
        self._recent: dict[str, _RecentRuns] = {}

    # ---- plumbing ----------------------------------------------------------------------------

    @property
    def display_url(self) -> str:
        return self.settings.display_url

    @property
    def requests(self) -> int:
        """HTTP requests sent so far: every attempt, logins included."""
        return self.transport.requests

    @property
    def renewals(self) -> int:
        """Logins made so far to get or renew a token."""
        return self.transport.renewals

    def with_settings(self, **changes: Any) -> AirflowService:
        """A new service with some settings changed (e.g. ``read_only=True``), over a new
        transport of the same kind."""
        settings = replace(self.settings, **changes)
        return AirflowService(settings, transport=self.transport.with_settings(settings))

    def _write(self, what: str) -> None:
        if self.settings.read_only:
            raise ReadOnlyError(f"read-only: refused to {what} (started with --read-only)")

    # ---- paging ------------------------------------------------------------------------------

    def concurrently(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        """Run ``calls`` on at most ``page_workers`` threads and return their results in order.

        Pages are independent once the first says how many there are; waiting for each in turn
        leaves the API server's workers and this client idle half the time. Every call runs to
        its end (each with its own bounded retries), then a failure is raised once: the first in
        order, already one line. Whether a call ran never depends on how fast a thread started."""
        workers = min(self.settings.page_workers, len(calls))
        if workers <= 1:
            return [call() for call in calls]
        with ThreadPoolExecutor(workers, thread_name_prefix="airflow-page") as pool:
            futures = [pool.submit(call) for call in calls]
            for future in futures:
                error = future.exception()  # waits for it
                if error is not None:
                    for later in futures:
                        later.exception()
                    raise error
            return [future.result() for future in futures]

    def _page(self, listing: _Listing, offset: int, limit: int) -> Page:
        """One page of a collection as plain JSON, and the collection's size."""
        call = replace(listing.call, kwargs={**listing.call.kwargs, "limit": limit, "offset": offset})
        page = self.transport.send(call) or {}
        return list(page.get(listing.items) or []), page.get("total_entries")

    def _pages(self, listing: _Listing, *, max_items: int | None = None) -> list[dict[str, Any]]:
        """Every item (or the first ``max_items``) of a collection, in order: the first page, then
        the others at once (``ceil(total / page_size)`` requests in all)."""
        limit = self.settings.page_size if max_items is None else min(self.settings.page_size, max_items)
        first, total = self._page(listing, 0, limit)
        later = self._later_pages(listing, first, total, max_items=max_items)
        return first + [item for page in self.concurrently(later) for item in page]

    def _later_pages(
        self, listing: _Listing, first: list[dict[str, Any]], total: int | None, *, max_items: int | None = None
    ) -> list[Callable[[], list[dict[str, Any]]]]:
        """The requests for the pages after ``first``, each as long as ``first`` was (the server
        may cap a page below ``page_size``), up to ``total`` or ``max_items`` items."""
        step = len(first)
        end = total if max_items is None or total is None else min(total, max_items)
        if not step or end is None or step >= end:
            return []

        def fetch(offset: int) -> Callable[[], list[dict[str, Any]]]:
            return lambda: self._page(listing, offset, min(step, end - offset))[0]

        return [fetch(offset) for offset in range(step, end, step)]

    # ---- reads -------------------------------------------------------------------------------

    def health(self) -> Health:
        """Each Airflow component's status (``/api/v2/monitor/health`` needs no login)."""
        return health_from_json(self.transport.send(ApiCall("health", "MonitorApi", "get_health", auth=False)))

    @staticmethod
    def _dag_listing(dag_id_prefix: str | None) -> _Listing:
        kwargs: dict[str, Any] = {"exclude_stale": False, "order_by": ["dag_id"]}
        if dag_id_prefix:
            kwargs["dag_id_prefix_pattern"] = dag_id_prefix
        return _Listing(ApiCall("list DAGs", "DAGApi", "get_dags", kwargs=kwargs), "dags")

    @staticmethod
    def _prefixed(dags: Iterable[dict[str, Any]], dag_id_prefix: str | None) -> list[DagState]:
        # Airflow matches the prefix with LIKE, where "_" is a wildcard: check it exactly.
        return [dag_from_json(d) for d in dags if not dag_id_prefix or str(d["dag_id"]).startswith(dag_id_prefix)]

    def dags(self, dag_id_prefix: str | None = None) -> list[DagState]:
        """Every DAG Airflow knows (stale ones included), optionally only ids starting with the
        prefix; ``stream_key`` is left None. Costs ``ceil(dags / page_size)`` requests."""
        return self._prefixed(self._pages(self._dag_listing(dag_id_prefix)), dag_id_prefix)

    def list_dags(self, platform: str) -> list[DagState]:
        """The platform's DAGs (dag_id ``{platform}__…``, stale ones included) with their stream
        key and recent runs (up to ``runs_per_dag``, newest first), sorted by dag_id.

        Costs ``ceil(dags / page_size)`` requests for the DAGs plus at most
        ``ceil(dags * runs_per_dag / page_size)`` for their runs (newest first, across all of
        the platform's DAGs at once): never one request per DAG. The first page of each goes
        out together, then all the others (see :meth:`concurrently`). Between full reads (every
        ``full_runs_every`` refreshes) only the runs changed since the previous refresh are read,
        usually one page, and merged into the runs kept from before.
        """
        prefix = f"{platform_slug(platform)}__"
        per_dag = max(self.settings.runs_per_dag, 0)
        kept = self._kept_runs(prefix, per_dag)
        asked_at = time.time()
        read = self._read_dags_and_runs(prefix, per_dag, kept)
        if read is None:
            # More changed than a full read holds: read them all, within the same bound.
            with self._lock:
                self._recent.pop(prefix, None)
            return self.list_dags(platform)
        dags, runs = read
        found = self._prefixed(dags, prefix)
        by_dag = self._keep_runs(prefix, {d.dag_id for d in found}, runs, kept, per_dag, asked_at)
        return [
            replace(
                d,
                stream_key=stream_key_from_dag_id(platform, d.dag_id),
                recent_runs=tuple(run_from_json(r) for r in by_dag[d.dag_id]),
            )
            for d in found
        ]

    def _kept_runs(self, prefix: str, per_dag: int) -> _RecentRuns | None:
        """The runs kept from the previous refresh, or None when this refresh reads them all."""
        with self._lock:
            kept = self._recent.get(prefix)
        if kept is not None and (kept.per_dag != per_dag or kept.refreshes + 1 >= self.settings.full_runs_every):
            return None
        return kept

    @staticmethod
    def _runs_listing(prefix: str, kept: _RecentRuns | None) -> _Listing:
        """The platform's runs, newest first; only those changed since ``kept`` was read, if given."""
        kwargs: dict[str, Any] = {"dag_id": "~", "dag_id_prefix_pattern": prefix, "order_by": ["-run_after", "-id"]}
        if kept is not None:
            # A margin for clocks read a second apart and for updates committed a little late.
            kwargs["updated_at_gte"] = kept.since - timedelta(seconds=CHANGED_MARGIN_S)
        return _Listing(ApiCall("list DAG runs", "DagRunApi", "get_dag_runs", kwargs=kwargs), "dag_runs")

    def _read_dags_and_runs(
        self, prefix: str, per_dag: int, kept: _RecentRuns | None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
        """The platform's DAGs and runs as JSON: both first pages at once, then every later page
        at once. None when more runs changed since ``kept`` than a full read would hold."""
        size = self.settings.page_size
        dag_listing, runs_listing = self._dag_listing(prefix), self._runs_listing(prefix, kept)
        firsts: list[Callable[[], Page]] = [lambda: self._page(dag_listing, 0, size)]
        if per_dag:
            firsts.append(lambda: self._page(runs_listing, 0, size))
        (dags, dags_total), *first_runs = self.concurrently(firsts)
        runs, runs_total = first_runs[0] if first_runs else ([], 0)
        # Never more run pages than the DAGs' runs fill when spread evenly: a DAG with
        # thousands of runs cannot make a refresh unbounded.
        max_runs = max(1, math.ceil((dags_total or len(dags)) * per_dag / size)) * size
        if kept is not None and (runs_total or 0) > max_runs:
            return None
        later_dags = self._later_pages(dag_listing, dags, dags_total)
        later_runs = self._later_pages(runs_listing, runs, runs_total, max_items=max_runs)
        pages = self.concurrently(later_dags + later_runs)
        dags += [d for page in pages[: len(later_dags)] for d in page]
        runs += [r for page in pages[len(later_dags) :] for r in page]
        return dags, runs

    def _keep_runs(
        self,
        prefix: str,
        dag_ids: set[str],
        runs: list[dict[str, Any]],
        kept: _RecentRuns | None,
        per_dag: int,
        asked_at: float,
    ) -> dict[str, list[dict[str, Any]]]:
        """Each DAG's newest runs, merged with those ``kept``, and kept for the next refresh as
        read at ``asked_at`` (our clock), in the API server's time."""
        by_dag = _newest_runs(dag_ids, runs, kept.runs if kept else {}, per_dag)
        recent = _RecentRuns(
            per_dag=per_dag,
            since=datetime.fromtimestamp(asked_at + self.transport.server_offset_s, UTC),
            runs=by_dag,
            refreshes=kept.refreshes + 1 if kept is not None else 0,
        )
        with self._lock:
            self._recent[prefix] = recent
        return by_dag

    def dag(self, dag_id: str) -> DagState:
        """One DAG (AirflowNotFound if Airflow does not know it)."""
        return dag_from_json(self.transport.send(ApiCall(f"DAG {dag_id!r}", "DAGApi", "get_dag", (dag_id,))))

    def dag_runs(self, dag_id: str, limit: int = 25) -> list[RunState]:
        """The newest ``limit`` runs of one DAG, newest first."""
        kwargs = {"dag_id": dag_id, "order_by": ["-run_after", "-id"]}
        listing = _Listing(ApiCall(f"runs of {dag_id!r}", "DagRunApi", "get_dag_runs", kwargs=kwargs), "dag_runs")
        return [run_from_json(r) for r in self._pages(listing, max_items=limit)]

    def dag_run(self, dag_id: str, run_id: str) -> RunState:
        call = ApiCall(f"run {run_id!r} of {dag_id!r}", "DagRunApi", "get_dag_run", (dag_id, run_id))
        return run_from_json(self.transport.send(call))

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstanceState]:
        """The task instances of one run, in the order Airflow lists them."""
        kwargs = {"dag_id": dag_id, "dag_run_id": run_id}
        call = ApiCall(f"task instances of {run_id!r}", "TaskInstanceApi", "get_task_instances", kwargs=kwargs)
        return [task_instance_from_json(t) for t in self._pages(_Listing(call, "task_instances"))]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The task's log for one try, as text (structured lines flattened to ``event``)."""
        call = ApiCall(
            f"log of {task_id!r} in {run_id!r}",
            "TaskInstanceApi",
            "get_log",
            (dag_id, run_id, task_id, try_number),
            {"full_content": True},
        )
        return log_text_from_json(self.transport.send(call))

    def import_errors(self, filename: str | None = None, *, factory_of: str | None = None) -> list[ImportErrorState]:
        """Airflow's import errors: all, only for files whose name ends with ``filename``, or only
        for the factory files of platform ``factory_of`` (every one of a split platform's)."""
        kwargs: dict[str, Any] = {"order_by": ["-timestamp"]}
        pattern = f"{platform_slug(factory_of)}_factory_dag" if factory_of else filename
        if pattern:
            kwargs["filename_pattern"] = pattern  # a substring match on the server, narrowed below

        def wanted(name: str) -> bool:
            if factory_of:
                return split_index(factory_of, name) is not None
            return not filename or name.endswith(filename)

        call = ApiCall("list import errors", "ImportErrorApi", "get_import_errors", kwargs=kwargs)
        return [
            import_error_from_json(e)
            for e in self._pages(_Listing(call, "import_errors"))
            if wanted(str(e["filename"]))
        ]

    def dag_warnings(self, dag_id_prefix: str | None = None) -> list[DagWarningState]:
        """Airflow's DAG warnings, only for dag_ids starting with ``dag_id_prefix`` if given."""
        call = ApiCall("list DAG warnings", "DagWarningApi", "list_dag_warnings", kwargs={"order_by": ["dag_id"]})
        return [
            dag_warning_from_json(w)
            for w in self._pages(_Listing(call, "dag_warnings"))
            if not dag_id_prefix or str(w["dag_id"]).startswith(dag_id_prefix)
        ]

    def dag_versions(self, dag_id: str) -> list[DagVersionState]:
        """Airflow's versions of ``dag_id``, oldest first (``GET /api/v2/dags/{dag_id}/dagVersions``)."""
        kwargs = {"dag_id": dag_id, "order_by": ["version_number"]}
        call = ApiCall(f"versions of {dag_id!r}", "DagVersionApi", "get_dag_versions", kwargs=kwargs)
        return [dag_version_from_json(v) for v in self._pages(_Listing(call, "dag_versions"))]

    # ---- writes (each refused when read-only) ------------------------------------------------

    def request_parse(self, file_token: str, what: str = "a DAG file") -> None:
        """Ask Airflow's DAG processor to parse one file now instead of at its next turn.

        ``PUT /api/v2/parseDagFile/{file_token}`` (``reparse_dag_file`` in
        ``airflow/api_fastapi/core_api/routes/public/dag_parsing.py``) answers 201 after adding a
        ``DagPriorityParsingRequest`` for the file the signed token names; the DAG processor
        takes those before its regular queue. A token Airflow cannot verify, or a file with no
        DAG, is 404. Refused when read-only. Safe to repeat: a second request for the same file
        only asks for the same parse again."""
        self._write(f"request a parse of {what}")
        self.transport.send(ApiCall(f"parse request for {what}", "DAGParsingApi", "reparse_dag_file", (file_token,)))

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> RunState:
        """Create a manual run of ``dag_id`` now, with ``conf`` if given."""
        self._write(f"trigger {dag_id}")
        body = _client_models().TriggerDAGRunPostBody(logical_date=None, conf=conf or {})
        call = ApiCall(f"trigger {dag_id!r}", "DagRunApi", "trigger_dag_run", (dag_id, body), idempotent=False)
        return run_from_json(self.transport.send(call))

    def set_paused(self, dag_id: str, paused: bool) -> DagState:
        """Pause or unpause ``dag_id``; returns the DAG as Airflow now reports it."""
        verb = "pause" if paused else "unpause"
        self._write(f"{verb} {dag_id}")
        body = _client_models().DAGPatchBody(is_paused=paused)
        return dag_from_json(self.transport.send(ApiCall(f"{verb} {dag_id!r}", "DAGApi", "patch_dag", (dag_id, body))))

    def clear_failed(self, dag_id: str, run_id: str, *, dry_run: bool = False) -> list[str]:
        """Clear the failed (and upstream-failed) tasks of a run so the scheduler runs them again;
        returns the task ids cleared (empty if nothing had failed). ``dry_run`` only lists them,
        and is allowed when read-only."""
        if not dry_run:
            self._write(f"clear {run_id} of {dag_id}")
        models = _client_models()
        what = f"clear {run_id!r} of {dag_id!r}"
        # Airflow lists the task instances only for a dry run (the real clear returns the run).
        # The generated model cannot tell that list's two item schemas apart, so read it as JSON.
        body = models.DAGRunClearBody(dry_run=True, only_failed=True)
        preview = self.transport.send(ApiCall(what, "DagRunApi", "clear_dag_run", (dag_id, run_id, body)))
        tasks = sorted({t["task_id"] for t in (preview or {}).get("task_instances", []) if "task_id" in t})
        if tasks and not dry_run:
            body = models.DAGRunClearBody(dry_run=False, only_failed=True)
            self.transport.send(ApiCall(what, "DagRunApi", "clear_dag_run", (dag_id, run_id, body), idempotent=False))
        return tasks
