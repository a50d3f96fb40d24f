"""The dashboard's and the command line's one door to Airflow's REST API (v2).

:class:`AirflowService` wraps ``apache-airflow-client`` with what an operator's tool needs:

- auth by a token (``AIRFLOW_API_TOKEN``) or by ``AIRFLOW_API_USERNAME``/``AIRFLOW_API_PASSWORD``
  exchanged at ``/auth/token`` for a JWT, renewed shortly before it expires and once more if
  Airflow answers 401;
- connect and read timeouts on every request; bounded retries with backoff on connection
  errors and 5xx;
- paging past the API's page limit, and one list call where one serves: refreshing a
  platform's DAGs costs ``ceil(dags / page)`` pages plus a few pages of runs, never a request
  per DAG (:attr:`AirflowService.requests` counts them); the pages after the first go out
  together, and between full reads only the runs changed since the last refresh are read;
- lists read as plain JSON into the dataclasses below (the client's models cost more);
- every failure as one :class:`~factory.errors.AirflowError` line (unreachable, auth, not
  found, read-only), never a traceback; tokens and passwords are never logged or shown.

Every method blocks: the dashboard calls them from thread workers. Nothing here imports textual;
the REST client is imported on first use.
"""

from __future__ import annotations

import base64
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from factory.errors import AirflowAuthError, AirflowError, AirflowNotFound, AirflowUnavailable, ReadOnlyError
from factory.fingerprint import fingerprint_in
from factory.names import platform_slug, stream_key_from_dag_id
from factory.redact import display_url
from factory.split import split_index

T = TypeVar("T")

API_URL_ENV = "AIRFLOW_API_URL"
TOKEN_ENV = "AIRFLOW_API_TOKEN"
USERNAME_ENV = "AIRFLOW_API_USERNAME"
PASSWORD_ENV = "AIRFLOW_API_PASSWORD"
#: Airflow's default ``[api] maximum_page_limit``: asking for more gets this many anyway.
DEFAULT_PAGE_SIZE = 100
#: Renew a JWT this long before its ``exp``, so a request never races the expiry.
RENEW_MARGIN_S = 30.0


# ---- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AirflowSettings:
    """Where Airflow is and how to talk to it. The token and password never appear in ``repr``."""

    url: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 15.0
    page_size: int = DEFAULT_PAGE_SIZE
    retries: int = 2
    backoff_s: float = 0.5
    read_only: bool = False
    #: How many recent runs :meth:`AirflowService.list_dags` keeps per DAG.
    runs_per_dag: int = 5
    #: Pages fetched at once once the first page has said how many there are (1: one by one).
    page_workers: int = 4
    #: Every this many refreshes of a platform, :meth:`AirflowService.list_dags` reads all the
    #: recent runs again (forgetting deleted ones); in between, only the runs changed since the
    #: previous refresh. 1: always all.
    full_runs_every: int = 12

    @classmethod
    def from_env(
        cls, url: str | None = None, *, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> AirflowSettings:
        """Settings from ``url`` (e.g. ``--airflow``) or ``AIRFLOW_API_URL``, credentials from
        ``AIRFLOW_API_TOKEN`` or ``AIRFLOW_API_USERNAME``/``AIRFLOW_API_PASSWORD``.

        Raises :class:`AirflowError` when no server is named or the URL is not http(s).
        """
        env = os.environ if environ is None else environ
        url = (url or env.get(API_URL_ENV) or "").strip()
        if not url:
            raise AirflowError(f"no Airflow server: pass --airflow URL or set {API_URL_ENV}")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AirflowError(f"Airflow URL {display_url(url)!r} is not an http(s) URL such as http://host:8080")
        values: dict[str, Any] = {
            "url": url.rstrip("/"),
            "token": env.get(TOKEN_ENV) or None,
            "username": env.get(USERNAME_ENV) or None,
            "password": env.get(PASSWORD_ENV) or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def display_url(self) -> str:
        return display_url(self.url)

    @property
    def can_login(self) -> bool:
        return bool(self.username and self.password)


# ---- results --------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, datetime):
            out[key] = _iso(value)
        elif isinstance(value, dict) and key != "conf":
            out[key] = _jsonable(value)
        elif isinstance(value, list | tuple):
            out[key] = [_jsonable(v) if isinstance(v, dict) else v for v in value]
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class RunState:
    """One DAG run as Airflow reports it."""

    dag_id: str
    run_id: str
    state: str
    run_type: str
    run_after: datetime | None = None
    logical_date: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    duration_s: float | None = None
    triggered_by: str | None = None
    conf: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state in ("success", "failed")

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class DagState:
    """One DAG as Airflow reports it, with the stream it belongs to and its recent runs (newest first).

    ``last_parsed`` and ``last_parse_duration_s`` are Airflow's own figures for the file that
    defines the DAG; ``next_run`` is when the scheduler will next create a run (None if manual only).
    """

    dag_id: str
    stream_key: str | None
    is_paused: bool
    is_stale: bool
    has_import_errors: bool = False
    last_parsed: datetime | None = None
    last_parse_duration_s: float | None = None
    next_run: datetime | None = None
    schedule: str | None = None
    file: str | None = None
    recent_runs: tuple[RunState, ...] = ()
    #: The DAG's description: the factory ends it with the fingerprint of what it built.
    description: str | None = None
    #: Airflow's signed name of the DAG's file (``DAGResponse.file_token``, listed with every
    #: DAG): what ``PUT /api/v2/parseDagFile/{file_token}`` takes. A secret-free handle, but
    #: not shown: it is only useful to send back.
    file_token: str | None = field(default=None, repr=False)

    @property
    def last_run(self) -> RunState | None:
        return self.recent_runs[0] if self.recent_runs else None

    @property
    def fingerprint(self) -> str | None:
        """The fingerprint of the config Airflow serves this DAG from (None: not a factory DAG
        of this version, see :mod:`factory.fingerprint`)."""
        return fingerprint_in(self.description)

    def to_dict(self) -> dict[str, Any]:
        data = _jsonable({k: v for k, v in asdict(self).items() if k not in ("recent_runs", "file_token")})
        data["recent_runs"] = [r.to_dict() for r in self.recent_runs]
        data["fingerprint"] = self.fingerprint
        return data


@dataclass(frozen=True)
class TaskInstanceState:
    """One task instance of a run."""

    task_id: str
    state: str | None
    try_number: int
    operator: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    duration_s: float | None = None
    map_index: int = -1

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class ImportErrorState:
    """A DAG file Airflow could not import; ``summary`` is the last line of its traceback."""

    filename: str
    timestamp: datetime | None
    stack_trace: str
    bundle_name: str | None = None

    @property
    def summary(self) -> str:
        lines = [line.strip() for line in self.stack_trace.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def to_dict(self) -> dict[str, Any]:
        return {**_jsonable(asdict(self)), "summary": self.summary}


@dataclass(frozen=True)
class DagWarningState:
    """A warning Airflow holds against a DAG (e.g. a missing pool)."""

    dag_id: str
    warning_type: str
    message: str
    timestamp: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class DagVersionState:
    """One of Airflow's versions of a DAG (``GET /api/v2/dags/{dag_id}/dagVersions``,
    ``DagVersionResponse`` in ``airflow/api_fastapi/core_api/datamodels/dag_versions.py``).

    Airflow writes a new version only when the serialized DAG's hash changed *and* the latest
    version already has task instances (a run used it); otherwise it rewrites the latest version
    in place (``SerializedDagModel.write_dag`` in ``airflow/models/serialized_dag.py``). So one version
    may stand for several config changes, and ``created_at`` is when it was first written."""

    dag_id: str
    version_number: int
    created_at: datetime | None
    bundle_name: str | None = None
    bundle_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class Health:
    """Airflow's ``/monitor/health``: each component's status (``healthy`` or ``unhealthy``)."""

    components: dict[str, str]

    @property
    def healthy(self) -> bool:
        return bool(self.components) and all(s == "healthy" for s in self.components.values())


# ---- the service ----------------------------------------------------------------------------


def _when(value: Any) -> datetime | None:
    """A time from Airflow's JSON (ISO 8601, ``Z`` or an offset), or None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _seconds(value: Any) -> float | None:
    return float(value) if value is not None else None


def _run(r: Mapping[str, Any]) -> RunState:
    """A run from Airflow's JSON (read as plain JSON: the client's models cost more than the request)."""
    return RunState(
        dag_id=r["dag_id"],
        run_id=r["dag_run_id"],
        state=r.get("state") or "unknown",
        run_type=r.get("run_type") or "unknown",
        run_after=_when(r.get("run_after")),
        logical_date=_when(r.get("logical_date")),
        start_date=_when(r.get("start_date")),
        end_date=_when(r.get("end_date")),
        duration_s=_seconds(r.get("duration")),
        triggered_by=r.get("triggered_by"),
        conf=dict(r.get("conf") or {}),
    )


def _dag(d: Mapping[str, Any]) -> DagState:
    """A DAG from Airflow's JSON; ``stream_key`` is left None."""
    return DagState(
        dag_id=d["dag_id"],
        stream_key=None,
        is_paused=bool(d.get("is_paused")),
        is_stale=bool(d.get("is_stale")),
        has_import_errors=bool(d.get("has_import_errors")),
        last_parsed=_when(d.get("last_parsed_time")),
        last_parse_duration_s=_seconds(d.get("last_parse_duration")),
        next_run=_when(d.get("next_dagrun_run_after")),
        schedule=d.get("timetable_summary"),
        file=d.get("relative_fileloc") or d.get("fileloc"),
        description=d.get("description"),
        file_token=d.get("file_token"),
    )


def _task_instance(t: Mapping[str, Any]) -> TaskInstanceState:
    return TaskInstanceState(
        task_id=t["task_id"],
        state=t.get("state"),
        try_number=int(t.get("try_number") or 0),
        operator=t.get("operator_name") or t.get("operator"),
        start_date=_when(t.get("start_date")),
        end_date=_when(t.get("end_date")),
        duration_s=_seconds(t.get("duration")),
        map_index=int(t.get("map_index", -1)),
    )


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (unverified: only to know when to renew), or None."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(data["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def _detail(exc: Any) -> str:
    """Airflow's own ``detail`` from an error response, in one line."""
    body = getattr(exc, "body", None)
    text = ""
    if body:
        try:
            detail = json.loads(body).get("detail")
            text = detail if isinstance(detail, str) else json.dumps(detail)[:300]
        except (ValueError, AttributeError):
            text = str(body)[:300]
    text = text or str(getattr(exc, "reason", "") or "")
    return " ".join(text.split())


#: How far back "changed since the previous refresh" reaches before that refresh was asked.
CHANGED_MARGIN_S = 15.0


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
        dag_id: sorted(runs.values(), key=lambda r: _when(r.get("run_after")) or oldest, reverse=True)[:per_dag]
        for dag_id, runs in merged.items()
    }


class AirflowService:
    """Blocking calls to one Airflow's REST API; see the module docstring for the guarantees.

    Thread-safe enough for one dashboard worker group at a time: the token renewal, the request
    count and the runs kept between refreshes are locked, as pages are fetched from several
    threads at once.
    """

    def __init__(self, settings: AirflowSettings, *, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.requests = 0
        self.renewals = 0
        self._sleep = sleep
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()  # pages are fetched from several threads at once
        self._server_offset_s = 0.0
        #: Each platform's recent runs as last read (see :meth:`list_dags`), by dag_id prefix.
        self._recent: dict[str, _RecentRuns] = {}
        self._client: Any = None
        self._token: str | None = settings.token
        self._token_expiry: float | None = _jwt_expiry(settings.token) if settings.token else None

    # ---- plumbing ----------------------------------------------------------------------------

    @property
    def display_url(self) -> str:
        return self.settings.display_url

    def with_settings(self, **changes: Any) -> AirflowService:
        """A new service with some settings changed (e.g. ``read_only=True``)."""
        return AirflowService(replace(self.settings, **changes), sleep=self._sleep)

    def _api(self) -> Any:
        if self._client is None:
            from airflow_client import client

            config = client.Configuration(host=self.settings.url)
            config.retries = False  # retried here, where the attempts are bounded and counted
            self._client = client.ApiClient(config)
        return self._client

    def _timeout(self) -> tuple[float, float]:
        return (self.settings.connect_timeout_s, self.settings.read_timeout_s)

    def _login(self) -> None:
        """Exchange username and password for a JWT at ``/auth/token``."""
        import urllib3

        url = f"{self.settings.url}/auth/token"
        body = {"username": self.settings.username, "password": self.settings.password}
        pool = self._api().rest_client.pool_manager
        timeout = urllib3.Timeout(connect=self.settings.connect_timeout_s, read=self.settings.read_timeout_s)
        response = self._attempts(lambda: pool.request("POST", url, json=body, timeout=timeout, retries=False))
        if response.status in (401, 403):
            raise AirflowAuthError(
                f"Airflow at {self.display_url} refused the login of {self.settings.username!r}: "
                f"wrong username or password ({USERNAME_ENV}/{PASSWORD_ENV})"
            )
        if response.status >= 500:
            raise AirflowUnavailable(f"Airflow at {self.display_url} failed the login with HTTP {response.status}")
        try:
            token = str(json.loads(response.data)["access_token"])
        except (ValueError, KeyError, TypeError):
            raise AirflowError(
                f"Airflow at {self.display_url} answered the login with HTTP {response.status} and no token"
            ) from None
        self._token = token
        self._token_expiry = _jwt_expiry(token)
        self.renewals += 1

    def _ensure_token(self, refused: str | None = None) -> str:
        """The token to send, logging in first when there is none, when it is about to expire, or
        when it is ``refused`` (Airflow said 401/403 to it). Pages in flight together that are
        refused together log in once: the first renews, the others find a new token already."""
        with self._lock:
            expiring = self._token_expiry is not None and self._token_expiry - time.time() < RENEW_MARGIN_S
            stale = refused is not None and refused == self._token
            if self.settings.can_login and (stale or self._token is None or expiring):
                self._login()
            if self._token is None:
                raise AirflowAuthError(
                    f"no credentials for Airflow at {self.display_url}: set {TOKEN_ENV}, "
                    f"or {USERNAME_ENV} and {PASSWORD_ENV}"
                )
            self._api().configuration.access_token = self._token
            return self._token

    def _attempts(self, fn: Callable[[], T], *, idempotent: bool = True) -> T:
        """Call ``fn`` with bounded retries and backoff on connection errors and 5xx.

        A request that is not ``idempotent`` (a trigger, a clear) is retried only when it cannot
        have reached Airflow (the connection failed): after a 5xx or a read timeout it may have
        taken effect, and a second run must not be created behind the operator's back."""
        import urllib3
        from airflow_client.client.exceptions import ServiceException

        unsent = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError, ConnectionRefusedError)
        attempt = 0
        while True:
            with self._count_lock:
                self.requests += 1
            try:
                result = fn()
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                reason = _connection_reason(exc)
                if attempt >= self.settings.retries or not (idempotent or isinstance(exc, unsent)):
                    raise AirflowUnavailable(
                        f"cannot reach Airflow at {self.display_url}: {reason} "
                        f"(after {attempt + 1} attempt{'s' if attempt else ''})"
                    ) from None
            except ServiceException as exc:
                if attempt >= self.settings.retries or not idempotent:
                    raise AirflowUnavailable(
                        f"Airflow at {self.display_url} failed with HTTP {exc.status}: {_detail(exc)}"
                    ) from None
            else:
                status = getattr(result, "status", 200)
                if not (isinstance(status, int) and status >= 500 and attempt < self.settings.retries and idempotent):
                    return result
            self._sleep(self.settings.backoff_s * (2**attempt))
            attempt += 1

    def _call(
        self,
        what: str,
        method: Callable[..., Any],
        *args: Any,
        raw: bool = False,
        idempotent: bool = True,
        **kwargs: Any,
    ) -> Any:
        """One API call: token, timeouts, retries, a renewal on 401, errors as one line.

        ``raw`` is for a client method ``…_without_preload_content``: its JSON is returned as
        plain data, with the same error mapping as the typed methods."""
        from airflow_client.client.exceptions import (
            ApiException,
            ForbiddenException,
            NotFoundException,
            UnauthorizedException,
        )

        renewed = False
        while True:
            token = self._ensure_token()
            try:
                return self._attempts(lambda: self._send(method, args, kwargs, raw), idempotent=idempotent)
            except (UnauthorizedException, ForbiddenException) as exc:
                # Airflow answers 401 for a missing or expired token and 403 for one it cannot
                # verify (revoked, signed by another key): a fresh login fixes either, once.
                if self.settings.can_login and not renewed:
                    renewed = True
                    self._ensure_token(refused=token)
                    continue
                if isinstance(exc, ForbiddenException) and renewed:
                    raise AirflowAuthError(
                        f"Airflow at {self.display_url} does not allow {what} for {self.settings.username!r}: "
                        f"{_detail(exc)}"
                    ) from None
                hint = (
                    "a freshly renewed token was refused too"
                    if renewed
                    else f"the token is expired or revoked ({_detail(exc)}): set a fresh {TOKEN_ENV}, "
                    f"or {USERNAME_ENV} and {PASSWORD_ENV}"
                )
                raise AirflowAuthError(f"Airflow at {self.display_url} rejected the credentials: {hint}") from None
            except NotFoundException as exc:
                raise AirflowNotFound(f"{what}: not found in Airflow at {self.display_url} ({_detail(exc)})") from None
            except ApiException as exc:
                if exc.status == 0:  # the client's way of saying TLS failed
                    raise AirflowUnavailable(f"cannot reach Airflow at {self.display_url}: {_detail(exc)}") from None
                raise AirflowError(f"{what}: Airflow answered HTTP {exc.status}: {_detail(exc)}") from None

    def _send(self, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], raw: bool) -> Any:
        result = method(*args, _request_timeout=self._timeout(), **kwargs)
        if not raw:
            return result
        from airflow_client.client.exceptions import ApiException

        self._note_server_date(getattr(result, "headers", None))
        body = result.data.decode("utf-8", "replace") if result.data else ""
        if result.status >= 400:
            ApiException.from_response(http_resp=result, body=body, data=None)  # raises by status
        return json.loads(body) if body else None

    def _note_server_date(self, headers: Any) -> None:
        """Keep how far the API server's clock (its ``Date`` header) is from ours: runs are
        filtered by the server's ``updated_at``, so "changed since" must be in its time."""
        stamp = headers.get("Date") if headers is not None else None
        if not stamp:
            return
        try:
            offset = parsedate_to_datetime(stamp).timestamp() - time.time()
        except (TypeError, ValueError):
            return
        self._server_offset_s = offset

    # ---- paging --------------------------------------------------------------------------------

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

    def _page(
        self, what: str, method: Callable[..., Any], items: str, offset: int, limit: int, **kwargs: Any
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of an offset-paged collection as plain JSON, and the collection's size."""
        page = self._call(what, method, limit=limit, offset=offset, raw=True, **kwargs) or {}
        return list(page.get(items) or []), page.get("total_entries")

    def _pages(
        self, what: str, method: Callable[..., Any], items: str, *, max_items: int | None = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        """Every item (or the first ``max_items``) of an offset-paged collection, in order: the
        first page, then the others at once (``ceil(total / page_size)`` requests in all)."""
        limit = self.settings.page_size if max_items is None else min(self.settings.page_size, max_items)
        first, total = self._page(what, method, items, 0, limit, **kwargs)
        later = self._later_pages(what, method, items, first, total, max_items=max_items, **kwargs)
        return first + [item for page in self.concurrently(later) for item in page]

    def _later_pages(
        self,
        what: str,
        method: Callable[..., Any],
        items: str,
        first: list[dict[str, Any]],
        total: int | None,
        *,
        max_items: int | None = None,
        **kwargs: Any,
    ) -> list[Callable[[], list[dict[str, Any]]]]:
        """The requests for the pages after ``first``, each as long as ``first`` was (the server
        may cap a page below ``page_size``), up to ``total`` or ``max_items`` items."""
        step = len(first)
        end = total if max_items is None or total is None else min(total, max_items)
        if not step or end is None or step >= end:
            return []

        def fetch(offset: int) -> Callable[[], list[dict[str, Any]]]:
            return lambda: self._page(what, method, items, offset, min(step, end - offset), **kwargs)[0]

        return [fetch(offset) for offset in range(step, end, step)]

    def _apis(self) -> Any:
        from airflow_client import client

        return client

    def _write(self, what: str) -> None:
        if self.settings.read_only:
            raise ReadOnlyError(f"read-only: refused to {what} (started with --read-only)")

    # ---- reads -------------------------------------------------------------------------------

    def health(self) -> Health:
        """Each Airflow component's status (``/api/v2/monitor/health`` needs no login)."""
        client = self._apis()
        api = client.MonitorApi(self._api())
        data = self._attempts_only(lambda: api.get_health(_request_timeout=self._timeout()))
        components = {}
        for name in ("metadatabase", "scheduler", "triggerer", "dag_processor"):
            part = getattr(data, name, None)
            if part is not None and getattr(part, "status", None):
                components[name] = str(part.status)
        return Health(components)

    def _attempts_only(self, fn: Callable[[], T]) -> T:
        from airflow_client.client.exceptions import ApiException

        try:
            return self._attempts(fn)
        except ApiException as exc:
            raise AirflowError(f"Airflow at {self.display_url} answered HTTP {exc.status}: {_detail(exc)}") from None

    def _dag_pages(self, dag_id_prefix: str | None) -> tuple[str, Callable[..., Any], str, dict[str, Any]]:
        """How to list DAGs: what, the method, the items' key and the query."""
        api = self._apis().DAGApi(self._api())
        kwargs: dict[str, Any] = {"exclude_stale": False, "order_by": ["dag_id"]}
        if dag_id_prefix:
            kwargs["dag_id_prefix_pattern"] = dag_id_prefix
        return "list DAGs", api.get_dags_without_preload_content, "dags", kwargs

    @staticmethod
    def _prefixed(dags: Iterable[dict[str, Any]], dag_id_prefix: str | None) -> list[DagState]:
        # Airflow matches the prefix with LIKE, where "_" is a wildcard: check it exactly.
        return [_dag(d) for d in dags if not dag_id_prefix or str(d["dag_id"]).startswith(dag_id_prefix)]

    def dags(self, dag_id_prefix: str | None = None) -> list[DagState]:
        """Every DAG Airflow knows (stale ones included), optionally only ids starting with the
        prefix; ``stream_key`` is left None. Costs ``ceil(dags / page_size)`` requests."""
        what, method, items, kwargs = self._dag_pages(dag_id_prefix)
        return self._prefixed(self._pages(what, method, items, **kwargs), dag_id_prefix)

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
        size = self.settings.page_size
        per_dag = max(self.settings.runs_per_dag, 0)
        with self._lock:
            kept = self._recent.get(prefix)
        if kept is not None and (kept.per_dag != per_dag or kept.refreshes + 1 >= self.settings.full_runs_every):
            kept = None
        what, method, items, kwargs = self._dag_pages(prefix)
        runs_what, runs_method = (
            "list DAG runs",
            self._apis().DagRunApi(self._api()).get_dag_runs_without_preload_content,
        )
        runs_kwargs: dict[str, Any] = {
            "dag_id": "~",
            "dag_id_prefix_pattern": prefix,
            "order_by": ["-run_after", "-id"],
        }
        if kept is not None:
            # A margin for clocks read a second apart and for updates committed a little late.
            runs_kwargs["updated_at_gte"] = kept.since - timedelta(seconds=CHANGED_MARGIN_S)
        asked_at = time.time()
        firsts: list[Callable[[], tuple[list[dict[str, Any]], int | None]]] = [
            lambda: self._page(what, method, items, 0, size, **kwargs)
        ]
        if per_dag:
            firsts.append(lambda: self._page(runs_what, runs_method, "dag_runs", 0, size, **runs_kwargs))
        (dags, dags_total), *first_runs = self.concurrently(firsts)
        runs, runs_total = first_runs[0] if first_runs else ([], 0)
        # Never more run pages than the DAGs' runs fill when spread evenly: a DAG with
        # thousands of runs cannot make a refresh unbounded.
        max_runs = max(1, math.ceil((dags_total or len(dags)) * per_dag / size)) * size
        if kept is not None and (runs_total or 0) > max_runs:
            # More changed than a full read holds: read them all, within the same bound.
            with self._lock:
                self._recent.pop(prefix, None)
            return self.list_dags(platform)
        later_dags = self._later_pages(what, method, items, dags, dags_total, **kwargs)
        later_runs = self._later_pages(
            runs_what, runs_method, "dag_runs", runs, runs_total, max_items=max_runs, **runs_kwargs
        )
        pages = self.concurrently(later_dags + later_runs)
        dags += [d for page in pages[: len(later_dags)] for d in page]
        runs += [r for page in pages[len(later_dags) :] for r in page]
        found = self._prefixed(dags, prefix)
        by_dag = _newest_runs({d.dag_id for d in found}, runs, kept.runs if kept else {}, per_dag)
        recent = _RecentRuns(
            per_dag=per_dag,
            since=datetime.fromtimestamp(asked_at + self._server_offset_s, UTC),
            runs=by_dag,
            refreshes=kept.refreshes + 1 if kept is not None else 0,
        )
        with self._lock:
            self._recent[prefix] = recent
        return [
            replace(
                d,
                stream_key=stream_key_from_dag_id(platform, d.dag_id),
                recent_runs=tuple(_run(r) for r in by_dag[d.dag_id]),
            )
            for d in found
        ]

    def dag(self, dag_id: str) -> DagState:
        """One DAG (AirflowNotFound if Airflow does not know it)."""
        api = self._apis().DAGApi(self._api())
        return _dag(self._call(f"DAG {dag_id!r}", api.get_dag_without_preload_content, dag_id, raw=True))

    def dag_runs(self, dag_id: str, limit: int = 25) -> list[RunState]:
        """The newest ``limit`` runs of one DAG, newest first."""
        api = self._apis().DagRunApi(self._api())
        return [
            _run(r)
            for r in self._pages(
                f"runs of {dag_id!r}",
                api.get_dag_runs_without_preload_content,
                "dag_runs",
                max_items=limit,
                dag_id=dag_id,
                order_by=["-run_after", "-id"],
            )
        ]

    def dag_run(self, dag_id: str, run_id: str) -> RunState:
        api = self._apis().DagRunApi(self._api())
        what = f"run {run_id!r} of {dag_id!r}"
        return _run(self._call(what, api.get_dag_run_without_preload_content, dag_id, run_id, raw=True))

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstanceState]:
        """The task instances of one run, in the order Airflow lists them."""
        api = self._apis().TaskInstanceApi(self._api())
        return [
            _task_instance(t)
            for t in self._pages(
                f"task instances of {run_id!r}",
                api.get_task_instances_without_preload_content,
                "task_instances",
                dag_id=dag_id,
                dag_run_id=run_id,
            )
        ]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The task's log for one try, as text (structured lines flattened to ``event``)."""
        api = self._apis().TaskInstanceApi(self._api())
        response = self._call(
            f"log of {task_id!r} in {run_id!r}",
            api.get_log_without_preload_content,
            dag_id,
            run_id,
            task_id,
            try_number,
            full_content=True,
            raw=True,
        )
        content = (response or {}).get("content")
        if isinstance(content, str):
            return content
        lines = []
        for item in content or []:
            if isinstance(item, dict):
                stamp = item.get("timestamp") or ""
                lines.append(f"{stamp} {item.get('event', '')}".strip())
                # "Task failed with exception" says why only in its error_detail: keep the why.
                for error in item.get("error_detail") or []:
                    if isinstance(error, dict) and error.get("exc_type"):
                        lines.append(f"{stamp} {error['exc_type']}: {error.get('exc_value') or ''}".strip())
            else:
                lines.append(str(item))
        return "\n".join(lines)

    def import_errors(self, filename: str | None = None, *, factory_of: str | None = None) -> list[ImportErrorState]:
        """Airflow's import errors: all, only for files whose name ends with ``filename``, or only
        for the factory files of platform ``factory_of`` (every one of a split platform's)."""
        api = self._apis().ImportErrorApi(self._api())
        kwargs: dict[str, Any] = {"order_by": ["-timestamp"]}
        pattern = f"{platform_slug(factory_of)}_factory_dag" if factory_of else filename
        if pattern:
            kwargs["filename_pattern"] = pattern  # a substring match on the server, narrowed below

        def wanted(name: str) -> bool:
            if factory_of:
                return split_index(factory_of, name) is not None
            return not filename or name.endswith(filename)

        return [
            ImportErrorState(e["filename"], _when(e.get("timestamp")), e.get("stack_trace") or "", e.get("bundle_name"))
            for e in self._pages(
                "list import errors", api.get_import_errors_without_preload_content, "import_errors", **kwargs
            )
            if wanted(str(e["filename"]))
        ]

    def dag_warnings(self, dag_id_prefix: str | None = None) -> list[DagWarningState]:
        """Airflow's DAG warnings, only for dag_ids starting with ``dag_id_prefix`` if given."""
        api = self._apis().DagWarningApi(self._api())
        return [
            DagWarningState(w["dag_id"], w.get("warning_type") or "", w.get("message") or "", _when(w.get("timestamp")))
            for w in self._pages(
                "list DAG warnings", api.list_dag_warnings_without_preload_content, "dag_warnings", order_by=["dag_id"]
            )
            if not dag_id_prefix or str(w["dag_id"]).startswith(dag_id_prefix)
        ]

    def dag_versions(self, dag_id: str) -> list[DagVersionState]:
        """Airflow's versions of ``dag_id``, oldest first (``GET /api/v2/dags/{dag_id}/dagVersions``)."""
        api = self._apis().DagVersionApi(self._api())
        return [
            DagVersionState(
                v["dag_id"],
                int(v["version_number"]),
                _when(v.get("created_at")),
                v.get("bundle_name"),
                v.get("bundle_version"),
            )
            for v in self._pages(
                f"versions of {dag_id!r}",
                api.get_dag_versions_without_preload_content,
                "dag_versions",
                dag_id=dag_id,
                order_by=["version_number"],
            )
        ]

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
        api = self._apis().DAGParsingApi(self._api())
        self._call(f"parse request for {what}", api.reparse_dag_file_without_preload_content, file_token, raw=True)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> RunState:
        """Create a manual run of ``dag_id`` now, with ``conf`` if given."""
        self._write(f"trigger {dag_id}")
        client = self._apis()
        body = client.TriggerDAGRunPostBody(logical_date=None, conf=conf or {})
        api = client.DagRunApi(self._api())
        return _run(
            self._call(
                f"trigger {dag_id!r}",
                api.trigger_dag_run_without_preload_content,
                dag_id,
                body,
                raw=True,
                idempotent=False,
            )
        )

    def set_paused(self, dag_id: str, paused: bool) -> DagState:
        """Pause or unpause ``dag_id``; returns the DAG as Airflow now reports it."""
        self._write(f"{'pause' if paused else 'unpause'} {dag_id}")
        client = self._apis()
        return _dag(
            self._call(
                f"{'pause' if paused else 'unpause'} {dag_id!r}",
                client.DAGApi(self._api()).patch_dag_without_preload_content,
                dag_id,
                client.DAGPatchBody(is_paused=paused),
                raw=True,
            )
        )

    def clear_failed(self, dag_id: str, run_id: str, *, dry_run: bool = False) -> list[str]:
        """Clear the failed (and upstream-failed) tasks of a run so the scheduler runs them again;
        returns the task ids cleared (empty if nothing had failed). ``dry_run`` only lists them,
        and is allowed when read-only."""
        if not dry_run:
            self._write(f"clear {run_id} of {dag_id}")
        client = self._apis()
        api = client.DagRunApi(self._api())
        what = f"clear {run_id!r} of {dag_id!r}"
        # Airflow lists the task instances only for a dry run (the real clear returns the run).
        # The generated model cannot tell that list's two item schemas apart, so read it as JSON.
        preview = self._call(
            what,
            api.clear_dag_run_without_preload_content,
            dag_id,
            run_id,
            client.DAGRunClearBody(dry_run=True, only_failed=True),
            raw=True,
        )
        tasks = sorted({t["task_id"] for t in (preview or {}).get("task_instances", []) if "task_id" in t})
        if tasks and not dry_run:
            self._call(
                what,
                api.clear_dag_run_without_preload_content,
                dag_id,
                run_id,
                client.DAGRunClearBody(dry_run=False, only_failed=True),
                raw=True,
                idempotent=False,
            )
        return tasks


def _connection_reason(exc: BaseException) -> str:
    """'connection refused', 'timed out', ... without the URL's credentials or a traceback."""
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "timed out" in lowered or "timeout" in lowered:
        return "timed out"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "resolution" in lowered:
        return "unknown host"
    if "reset" in lowered or "remote end closed" in lowered or "protocol" in lowered:
        return "connection lost"
    return type(exc).__name__
