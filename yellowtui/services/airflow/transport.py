"""How one call reaches Airflow's REST API: a token, timeouts, retries, one-line errors.

:class:`AirflowService` describes each call as an :class:`ApiCall` (plain data: which client
method, which arguments) and hands it to a :class:`Transport`. :class:`HttpTransport` is the real
one:

- auth by a token (``AIRFLOW_API_TOKEN``) or by ``AIRFLOW_API_USERNAME``/``AIRFLOW_API_PASSWORD``
  exchanged at ``/auth/token`` for a JWT, renewed shortly before it expires and once more if
  Airflow answers 401 or 403;
- connect and read timeouts on every request; bounded retries with backoff on connection errors
  and 5xx, for calls that may be repeated (:class:`RetryPolicy`);
- answers read as plain JSON; the API server's clock noted from its ``Date`` header;
- every failure as one :class:`~factory.errors.AirflowError` line (unreachable, auth, not found),
  never a traceback; tokens and passwords are never logged or shown.

A stand-in (the record/replay tool in ``tools/airflow_capture.py``) implements the same
:class:`Transport` and is passed to the service's constructor. The REST client, urllib3 and
tenacity are imported on first use.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar

from factory.errors import AirflowAuthError, AirflowError, AirflowNotFound, AirflowUnavailable
from yellowtui.services.airflow.settings import PASSWORD_ENV, TOKEN_ENV, USERNAME_ENV, AirflowSettings

if TYPE_CHECKING:
    from tenacity import RetryCallState

T = TypeVar("T")

#: Renew a JWT this long before its ``exp``, so a request never races the expiry.
RENEW_MARGIN_S = 30.0
#: The REST client's methods that return the raw response, read here as plain JSON.
RAW_SUFFIX = "_without_preload_content"


@dataclass(frozen=True)
class ApiCall:
    """One call of Airflow's REST API, as data: ``api`` names the client's API class
    (``"DagRunApi"``), ``operation`` its method (``"get_dag_runs"``), called with ``args`` and
    ``kwargs``. ``what`` names the call in error messages. A call that is not ``idempotent`` (a
    trigger, a real clear) is never sent twice once it may have reached Airflow. ``auth=False``
    sends no token (``/monitor/health`` needs none)."""

    what: str
    api: str
    operation: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    idempotent: bool = True
    auth: bool = True


class Transport(Protocol):
    """How :class:`~yellowtui.services.airflow.service.AirflowService` reaches Airflow."""

    @property
    def requests(self) -> int:
        """HTTP requests sent so far: every attempt, logins included (what the benchmark reports)."""
        ...

    @property
    def renewals(self) -> int:
        """Logins made so far to get or renew a token."""
        ...

    @property
    def server_offset_s(self) -> float:
        """How far the API server's clock is ahead of ours, as its last ``Date`` header said (0: unknown)."""
        ...

    def send(self, call: ApiCall) -> Any:
        """The call's answer as plain JSON (None for an empty body). Blocks; raises only
        :class:`~factory.errors.AirflowError` subclasses, each one line."""
        ...

    def with_settings(self, settings: AirflowSettings) -> Transport:
        """The same kind of transport for changed settings (``AirflowService.with_settings``)."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed request is sent again, and how long to wait first: at most ``retries`` more
    times, waiting ``backoff_s``, then twice, four times as long (``sleep`` does the waiting).

    tenacity runs it, not urllib3's ``Retry`` (which the REST client's ``Configuration.retries``
    hands to its PoolManager), because that would lose three things the tests assert:

    - whether a call may be repeated is the call's, not its HTTP method's: a dry-run clear and a
      real clear are the same POST, and only the first is safe to send twice; the client takes
      retries per pool, not per request;
    - the waits are observable and injectable: urllib3 sleeps with ``time.sleep`` inside the
      pool, and waits nothing before its first retry (``Retry.get_backoff_time``);
    - every attempt is counted (:attr:`HttpTransport.requests`), where urllib3 retries out of sight.

    So urllib3 retries nothing (``Configuration.retries = False``). tenacity comes with
    apache-airflow, which the project already requires.
    """

    retries: int
    backoff_s: float
    sleep: Callable[[float], None] = time.sleep

    def run(self, attempt: Callable[[], T], *, idempotent: bool) -> T:
        """``attempt()``, again after each failure :meth:`retryable` allows, until the retries
        are spent; returns its last answer or raises its last error, as they were."""
        from tenacity import Retrying, retry_if_exception, retry_if_result, stop_after_attempt, wait_exponential

        retrying = Retrying(
            stop=stop_after_attempt(max(self.retries, 0) + 1),
            wait=wait_exponential(multiplier=self.backoff_s),
            retry=retry_if_exception(lambda exc: self.retryable(exc, idempotent=idempotent))
            | retry_if_result(lambda answer: idempotent and _server_error(answer)),
            sleep=lambda seconds: self.sleep(float(seconds)),
            retry_error_callback=_last_outcome,
        )
        return retrying(attempt)

    @staticmethod
    def retryable(exc: BaseException, *, idempotent: bool) -> bool:
        """Connection errors and 5xx. For a call that is not ``idempotent``, only errors that
        show the request never reached Airflow: after a 5xx or a read timeout it may have taken
        effect, and a second run must not be created behind the operator's back."""
        import urllib3
        from airflow_client.client.exceptions import ServiceException

        if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
            unsent = (
                urllib3.exceptions.NewConnectionError,
                urllib3.exceptions.ConnectTimeoutError,
                ConnectionRefusedError,
            )
            return idempotent or isinstance(exc, unsent)
        return idempotent and isinstance(exc, ServiceException)


def _server_error(answer: Any) -> bool:
    status = getattr(answer, "status", 200)
    return isinstance(status, int) and status >= 500


def _last_outcome(state: RetryCallState) -> Any:
    """What the last attempt gave: its answer, or its error raised again."""
    return state.outcome.result() if state.outcome is not None else None


class HttpTransport:
    """:class:`Transport` over ``apache-airflow-client``; see the module docstring.

    Thread-safe: pages are sent from several threads at once, so the token renewal and the
    counts are locked.
    """

    def __init__(self, settings: AirflowSettings, *, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.policy = RetryPolicy(settings.retries, settings.backoff_s, sleep)
        self.renewals = 0
        self.server_offset_s = 0.0
        self._requests = 0
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._client: Any = None
        self._token: str | None = settings.token
        self._token_expiry: float | None = _jwt_expiry(settings.token) if settings.token else None

    @property
    def requests(self) -> int:
        return self._requests

    @property
    def display_url(self) -> str:
        return self.settings.display_url

    @property
    def token(self) -> str | None:
        """The bearer token last sent (for tools that send their own requests, e.g. the benchmark)."""
        return self._token

    def with_settings(self, settings: AirflowSettings) -> HttpTransport:
        return HttpTransport(settings, sleep=self.policy.sleep)

    def api_client(self) -> Any:
        """The REST client's ``ApiClient``, made on first use."""
        if self._client is None:
            from airflow_client import client

            config = client.Configuration(host=self.settings.url)
            config.retries = False  # retried by the RetryPolicy, where attempts are bounded and counted
            self._client = client.ApiClient(config)
        return self._client

    def send(self, call: ApiCall) -> Any:
        """One call: token, timeouts, retries, a renewal on 401/403, errors as one line."""
        from airflow_client.client.exceptions import (
            ApiException,
            ForbiddenException,
            NotFoundException,
            UnauthorizedException,
        )

        if not call.auth:
            return self._unauthenticated(call)
        renewed = False
        while True:
            token = self._ensure_token()
            try:
                return self._attempts(lambda: self._request(call), idempotent=call.idempotent)
            except (UnauthorizedException, ForbiddenException) as exc:
                # Airflow answers 401 for a missing or expired token and 403 for one it cannot
                # verify (revoked, signed by another key): a fresh login fixes either, once.
                if self.settings.can_login and not renewed:
                    renewed = True
                    self._ensure_token(refused=token)
                    continue
                self._reject(call, exc, renewed=renewed)
            except NotFoundException as exc:
                raise AirflowNotFound(
                    f"{call.what}: not found in Airflow at {self.display_url} ({_detail(exc)})"
                ) from None
            except ApiException as exc:
                if exc.status == 0:  # the client's way of saying TLS failed
                    raise AirflowUnavailable(f"cannot reach Airflow at {self.display_url}: {_detail(exc)}") from None
                raise AirflowError(f"{call.what}: Airflow answered HTTP {exc.status}: {_detail(exc)}") from None

    def _reject(self, call: ApiCall, exc: Any, *, renewed: bool) -> NoReturn:
        """Raise the error for credentials Airflow still refuses (after one renewal, if one was possible)."""
        from airflow_client.client.exceptions import ForbiddenException

        if isinstance(exc, ForbiddenException) and renewed:
            raise AirflowAuthError(
                f"Airflow at {self.display_url} does not allow {call.what} for {self.settings.username!r}: "
                f"{_detail(exc)}"
            ) from None
        hint = (
            "a freshly renewed token was refused too"
            if renewed
            else f"the token is expired or revoked ({_detail(exc)}): set a fresh {TOKEN_ENV}, "
            f"or {USERNAME_ENV} and {PASSWORD_ENV}"
        )
        raise AirflowAuthError(f"Airflow at {self.display_url} rejected the credentials: {hint}") from None

    def _unauthenticated(self, call: ApiCall) -> Any:
        """A call that needs no token: retries as any other, every HTTP error as one line."""
        from airflow_client.client.exceptions import ApiException

        try:
            return self._attempts(lambda: self._request(call), idempotent=call.idempotent)
        except ApiException as exc:
            raise AirflowError(f"Airflow at {self.display_url} answered HTTP {exc.status}: {_detail(exc)}") from None

    def _request(self, call: ApiCall) -> Any:
        """One attempt: the client's raw method, its JSON, its HTTP errors raised as the client's exceptions."""
        from airflow_client import client
        from airflow_client.client.exceptions import ApiException

        method = getattr(getattr(client, call.api)(self.api_client()), f"{call.operation}{RAW_SUFFIX}")
        timeout = (self.settings.connect_timeout_s, self.settings.read_timeout_s)
        result = method(*call.args, _request_timeout=timeout, **call.kwargs)
        self._note_server_date(getattr(result, "headers", None))
        body = result.data.decode("utf-8", "replace") if result.data else ""
        if result.status >= 400:
            ApiException.from_response(http_resp=result, body=body, data=None)  # raises by status
        return json.loads(body) if body else None

    def _attempts(self, fn: Callable[[], T], *, idempotent: bool = True) -> T:
        """``fn`` under the :class:`RetryPolicy`, each attempt counted; a connection error or a
        5xx that outlasts the retries becomes one :class:`AirflowUnavailable` line."""
        import urllib3
        from airflow_client.client.exceptions import ServiceException

        tried = 0

        def attempt() -> T:
            nonlocal tried
            tried += 1
            with self._count_lock:
                self._requests += 1
            return fn()

        try:
            return self.policy.run(attempt, idempotent=idempotent)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise AirflowUnavailable(
                f"cannot reach Airflow at {self.display_url}: {_connection_reason(exc)} "
                f"(after {tried} attempt{'s' if tried > 1 else ''})"
            ) from None
        except ServiceException as exc:
            raise AirflowUnavailable(
                f"Airflow at {self.display_url} failed with HTTP {exc.status}: {_detail(exc)}"
            ) from None

    def _login(self) -> None:
        """Exchange username and password for a JWT at ``/auth/token``."""
        import urllib3

        url = f"{self.settings.url}/auth/token"
        body = {"username": self.settings.username, "password": self.settings.password}
        pool = self.api_client().rest_client.pool_manager
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
            self.api_client().configuration.access_token = self._token
            return self._token

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
        self.server_offset_s = offset


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
