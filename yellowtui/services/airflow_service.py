"""The dashboard's and the command line's one door to Airflow's REST API (v2).

:class:`AirflowService` wraps ``apache-airflow-client`` with what an operator's tool needs:

- auth by a token (``AIRFLOW_API_TOKEN``) or by ``AIRFLOW_API_USERNAME``/``AIRFLOW_API_PASSWORD``
  exchanged at ``/auth/token`` for a JWT, renewed shortly before it expires and once more if
  Airflow answers 401;
- connect and read timeouts on every request; bounded retries with backoff on connection
  errors and 5xx;
- paging past the API's page limit, and one list call where one serves: refreshing a
  platform's DAGs costs ``ceil(dags / page)`` pages plus a few pages of runs, never a request
  per DAG (:attr:`AirflowService.requests` counts them);
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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from factory.errors import AirflowAuthError, AirflowError, AirflowNotFound, AirflowUnavailable, ReadOnlyError
from factory.names import platform_slug, stream_key_from_dag_id

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


def display_url(url: str) -> str:
    """The URL without any ``user:password@``: the only form we show."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "<unparseable URL>"


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

    @property
    def last_run(self) -> RunState | None:
        return self.recent_runs[0] if self.recent_runs else None

    def to_dict(self) -> dict[str, Any]:
        data = _jsonable({k: v for k, v in asdict(self).items() if k != "recent_runs"})
        data["recent_runs"] = [r.to_dict() for r in self.recent_runs]
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
class Health:
    """Airflow's ``/monitor/health``: each component's status (``healthy`` or ``unhealthy``)."""

    components: dict[str, str]

    @property
    def healthy(self) -> bool:
        return bool(self.components) and all(s == "healthy" for s in self.components.values())


# ---- the service ----------------------------------------------------------------------------


def _enum(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _run(r: Any) -> RunState:
    return RunState(
        dag_id=r.dag_id,
        run_id=r.dag_run_id,
        state=_enum(r.state) or "unknown",
        run_type=_enum(r.run_type) or "unknown",
        run_after=r.run_after,
        logical_date=r.logical_date,
        start_date=r.start_date,
        end_date=r.end_date,
        duration_s=float(r.duration) if r.duration is not None else None,
        triggered_by=_enum(r.triggered_by),
        conf=dict(r.conf or {}),
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


class AirflowService:
    """Blocking calls to one Airflow's REST API; see the module docstring for the guarantees.

    Thread-safe enough for one dashboard worker group at a time (the token renewal is locked).
    """

    def __init__(self, settings: AirflowSettings, *, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.requests = 0
        self.renewals = 0
        self._sleep = sleep
        self._lock = threading.Lock()
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

    def _ensure_token(self, force: bool = False) -> None:
        with self._lock:
            expiring = self._token_expiry is not None and self._token_expiry - time.time() < RENEW_MARGIN_S
            if self.settings.can_login and (force or self._token is None or expiring):
                self._login()
            if self._token is None:
                raise AirflowAuthError(
                    f"no credentials for Airflow at {self.display_url}: set {TOKEN_ENV}, "
                    f"or {USERNAME_ENV} and {PASSWORD_ENV}"
                )
            self._api().configuration.access_token = self._token

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
            self._ensure_token()
            try:
                return self._attempts(lambda: self._send(method, args, kwargs, raw), idempotent=idempotent)
            except (UnauthorizedException, ForbiddenException) as exc:
                # Airflow answers 401 for a missing or expired token and 403 for one it cannot
                # verify (revoked, signed by another key): a fresh login fixes either, once.
                if self.settings.can_login and not renewed:
                    renewed = True
                    self._ensure_token(force=True)
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

        body = result.data.decode("utf-8", "replace") if result.data else ""
        if result.status >= 400:
            ApiException.from_response(http_resp=result, body=body, data=None)  # raises by status
        return json.loads(body) if body else None

    def _pages(self, what: str, method: Callable[..., Any], items: str, **kwargs: Any) -> Iterator[Any]:
        """Every item of an offset-paged collection, ``page_size`` at a time."""
        offset = 0
        while True:
            page = self._call(what, method, limit=self.settings.page_size, offset=offset, **kwargs)
            batch = list(getattr(page, items) or [])
            yield from batch
            offset += len(batch)
            total = page.total_entries
            if not batch or (total is not None and offset >= total):
                return

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

    def dags(self, dag_id_prefix: str | None = None) -> list[DagState]:
        """Every DAG Airflow knows (stale ones included), optionally only ids starting with the
        prefix; ``stream_key`` is left None. Costs ``ceil(dags / page_size)`` requests."""
        client = self._apis()
        api = client.DAGApi(self._api())
        kwargs: dict[str, Any] = {"exclude_stale": False, "order_by": ["dag_id"]}
        if dag_id_prefix:
            kwargs["dag_id_prefix_pattern"] = dag_id_prefix
        found = []
        for d in self._pages("list DAGs", api.get_dags, "dags", **kwargs):
            if dag_id_prefix and not d.dag_id.startswith(dag_id_prefix):
                continue
            found.append(
                DagState(
                    dag_id=d.dag_id,
                    stream_key=None,
                    is_paused=bool(d.is_paused),
                    is_stale=bool(d.is_stale),
                    has_import_errors=bool(d.has_import_errors),
                    last_parsed=d.last_parsed_time,
                    last_parse_duration_s=float(d.last_parse_duration) if d.last_parse_duration is not None else None,
                    next_run=d.next_dagrun_run_after,
                    schedule=d.timetable_summary,
                    file=d.relative_fileloc or d.fileloc,
                )
            )
        return found

    def list_dags(self, platform: str) -> list[DagState]:
        """The platform's DAGs (dag_id ``{platform}__…``, stale ones included) with their stream
        key and recent runs, sorted by dag_id.

        Costs ``ceil(dags / page_size)`` requests for the DAGs plus at most
        ``ceil(dags * runs_per_dag / page_size)`` for their runs (newest first, across all of
        the platform's DAGs at once): never one request per DAG.
        """
        prefix = f"{platform_slug(platform)}__"
        dags = self.dags(prefix)
        runs = self.recent_runs(prefix, {d.dag_id for d in dags})
        return [
            replace(d, stream_key=stream_key_from_dag_id(platform, d.dag_id), recent_runs=tuple(runs.get(d.dag_id, ())))
            for d in dags
        ]

    def recent_runs(self, dag_id_prefix: str, dag_ids: Iterable[str]) -> dict[str, list[RunState]]:
        """Up to ``runs_per_dag`` newest runs of each of ``dag_ids``, read newest first across all
        DAGs whose id starts with ``dag_id_prefix`` (cursor paging). Stops when every DAG has its
        runs, when the runs run out, or after ``ceil(len(dag_ids) * runs_per_dag / page_size)``
        pages, so a DAG with thousands of runs cannot make a refresh unbounded."""
        client = self._apis()
        api = client.DagRunApi(self._api())
        wanted = set(dag_ids)
        per_dag = max(self.settings.runs_per_dag, 0)
        runs: dict[str, list[RunState]] = {d: [] for d in wanted}
        if not wanted or per_dag == 0:
            return runs
        max_pages = max(1, math.ceil(len(wanted) * per_dag / self.settings.page_size))
        missing = set(wanted)
        cursor = ""
        for _ in range(max_pages):
            page = self._call(
                "list DAG runs",
                api.get_dag_runs,
                "~",
                dag_id_prefix_pattern=dag_id_prefix,
                order_by=["-run_after", "-id"],
                limit=self.settings.page_size,
                cursor=cursor,
            )
            for r in page.dag_runs or []:
                bucket = runs.get(r.dag_id)
                if bucket is not None and len(bucket) < per_dag:
                    bucket.append(_run(r))
                    if len(bucket) == per_dag:
                        missing.discard(r.dag_id)
            cursor = page.next_cursor or ""
            if not cursor or not missing:
                break
        return runs

    def dag(self, dag_id: str) -> DagState:
        """One DAG (AirflowNotFound if Airflow does not know it)."""
        client = self._apis()
        d = self._call(f"DAG {dag_id!r}", client.DAGApi(self._api()).get_dag, dag_id)
        return DagState(
            dag_id=d.dag_id,
            stream_key=None,
            is_paused=bool(d.is_paused),
            is_stale=bool(d.is_stale),
            has_import_errors=bool(d.has_import_errors),
            last_parsed=d.last_parsed_time,
            last_parse_duration_s=float(d.last_parse_duration) if d.last_parse_duration is not None else None,
            next_run=d.next_dagrun_run_after,
            schedule=d.timetable_summary,
            file=d.relative_fileloc or d.fileloc,
        )

    def dag_runs(self, dag_id: str, limit: int = 25) -> list[RunState]:
        """The newest ``limit`` runs of one DAG, newest first."""
        client = self._apis()
        api = client.DagRunApi(self._api())
        found: list[RunState] = []
        cursor = ""
        while len(found) < limit:
            page = self._call(
                f"runs of {dag_id!r}",
                api.get_dag_runs,
                dag_id,
                order_by=["-run_after", "-id"],
                limit=min(self.settings.page_size, limit - len(found)),
                cursor=cursor,
            )
            found += [_run(r) for r in page.dag_runs or []]
            cursor = page.next_cursor or ""
            if not cursor:
                break
        return found[:limit]

    def dag_run(self, dag_id: str, run_id: str) -> RunState:
        client = self._apis()
        return _run(
            self._call(f"run {run_id!r} of {dag_id!r}", client.DagRunApi(self._api()).get_dag_run, dag_id, run_id)
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstanceState]:
        """The task instances of one run, in the order Airflow lists them."""
        client = self._apis()
        api = client.TaskInstanceApi(self._api())
        return [
            TaskInstanceState(
                task_id=t.task_id,
                state=_enum(t.state),
                try_number=int(t.try_number),
                operator=t.operator_name or t.operator,
                start_date=t.start_date,
                end_date=t.end_date,
                duration_s=float(t.duration) if t.duration is not None else None,
                map_index=int(t.map_index),
            )
            for t in self._pages(
                f"task instances of {run_id!r}",
                api.get_task_instances,
                "task_instances",
                dag_id=dag_id,
                dag_run_id=run_id,
            )
        ]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The task's log for one try, as text (structured lines flattened to ``event``)."""
        client = self._apis()
        api = client.TaskInstanceApi(self._api())
        response = self._call(
            f"log of {task_id!r} in {run_id!r}", api.get_log, dag_id, run_id, task_id, try_number, full_content=True
        )
        content = getattr(response.content, "actual_instance", response.content)
        if isinstance(content, str):
            return content
        lines = []
        for item in content or []:
            data = item.to_dict() if hasattr(item, "to_dict") else item
            if isinstance(data, dict):
                stamp = data.get("timestamp") or ""
                lines.append(f"{stamp} {data.get('event', '')}".strip())
            else:
                lines.append(str(data))
        return "\n".join(lines)

    def import_errors(self, filename: str | None = None) -> list[ImportErrorState]:
        """Airflow's import errors, only for files whose name ends with ``filename`` if given."""
        client = self._apis()
        api = client.ImportErrorApi(self._api())
        kwargs: dict[str, Any] = {"order_by": ["-timestamp"]}
        if filename:
            kwargs["filename_pattern"] = filename
        return [
            ImportErrorState(e.filename, e.timestamp, e.stack_trace or "", e.bundle_name)
            for e in self._pages("list import errors", api.get_import_errors, "import_errors", **kwargs)
            if not filename or e.filename.endswith(filename)
        ]

    def dag_warnings(self, dag_id_prefix: str | None = None) -> list[DagWarningState]:
        """Airflow's DAG warnings, only for dag_ids starting with ``dag_id_prefix`` if given."""
        client = self._apis()
        api = client.DagWarningApi(self._api())
        return [
            DagWarningState(w.dag_id, _enum(w.warning_type) or "", w.message, w.timestamp)
            for w in self._pages("list DAG warnings", api.list_dag_warnings, "dag_warnings", order_by=["dag_id"])
            if not dag_id_prefix or w.dag_id.startswith(dag_id_prefix)
        ]

    # ---- writes (each refused when read-only) ------------------------------------------------

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> RunState:
        """Create a manual run of ``dag_id`` now, with ``conf`` if given."""
        self._write(f"trigger {dag_id}")
        client = self._apis()
        body = client.TriggerDAGRunPostBody(logical_date=None, conf=conf or {})
        api = client.DagRunApi(self._api())
        return _run(self._call(f"trigger {dag_id!r}", api.trigger_dag_run, dag_id, body, idempotent=False))

    def set_paused(self, dag_id: str, paused: bool) -> DagState:
        """Pause or unpause ``dag_id``; returns the DAG as Airflow now reports it."""
        self._write(f"{'pause' if paused else 'unpause'} {dag_id}")
        client = self._apis()
        self._call(
            f"{'pause' if paused else 'unpause'} {dag_id!r}",
            client.DAGApi(self._api()).patch_dag,
            dag_id,
            client.DAGPatchBody(is_paused=paused),
        )
        return self.dag(dag_id)

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
