"""The Airflow service without an Airflow: settings, secrets kept out of sight, read-only
refusing before any request, and an unreachable server as one line after bounded retries.
(Everything that needs Airflow's answers is in test_airflow_e2e.py, against a real one.)"""

from __future__ import annotations

import base64
import json
import socket
import time

import pytest

from factory.errors import AirflowAuthError, AirflowError, AirflowUnavailable, FactoryError, ReadOnlyError
from factory.redact import display_url
from simulators.local_airflow import free_port
from yellowtui.services.airflow.service import AirflowService
from yellowtui.services.airflow.settings import AirflowSettings
from yellowtui.services.airflow.transport import _jwt_expiry


def test_settings_from_env_and_flag():
    env = {"AIRFLOW_API_URL": "http://af:8080/", "AIRFLOW_API_USERNAME": "u", "AIRFLOW_API_PASSWORD": "p4ss"}
    settings = AirflowSettings.from_env(environ=env)
    assert settings.url == "http://af:8080" and settings.can_login
    assert AirflowSettings.from_env("http://other:1", environ=env).url == "http://other:1"
    assert AirflowSettings.from_env(environ=env, read_only=True, page_size=7).page_size == 7
    with pytest.raises(AirflowError, match="pass --airflow URL or set AIRFLOW_API_URL"):
        AirflowSettings.from_env(environ={})
    with pytest.raises(AirflowError, match="not an http"):
        AirflowSettings.from_env("ftp://x", environ={})


def test_token_and_password_never_shown():
    settings = AirflowSettings(url="http://user:s3cret@af:8080", token="tok-en", username="u", password="p4ss")
    assert "s3cret" not in settings.display_url and "p4ss" not in repr(settings) and "tok-en" not in repr(settings)
    assert display_url("http://a:b@h:1/x?token=t") == "http://***@h:1/x"


def test_errors_are_factory_errors():
    """The CLI's and the dashboard's one handler for deliberate errors catches these too."""
    for cls in (AirflowError, AirflowUnavailable, AirflowAuthError, ReadOnlyError):
        assert issubclass(cls, FactoryError)


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.trigger("d", {"a": 1}),
        lambda s: s.set_paused("d", True),
        lambda s: s.set_paused("d", False),
        lambda s: s.clear_failed("d", "r"),
    ],
)
def test_read_only_refuses_before_any_request(write):
    service = AirflowService(AirflowSettings(url=f"http://127.0.0.1:{free_port()}", token="t", read_only=True))
    with pytest.raises(ReadOnlyError, match="read-only"):
        write(service)
    assert service.requests == 0


def test_unreachable_is_one_line_after_bounded_retries():
    """The first page of DAGs and the first page of runs go out together: each is tried
    ``retries + 1`` times with its own backoff, and the refresh fails with one line."""
    naps: list[float] = []
    settings = AirflowSettings(url=f"http://127.0.0.1:{free_port()}", token="t", retries=3, backoff_s=0.1)
    service = AirflowService(settings, sleep=naps.append)
    with pytest.raises(AirflowUnavailable) as caught:
        service.list_dags("yellowlive")
    message = str(caught.value)
    assert "cannot reach Airflow" in message and "connection refused" in message and "\n" not in message
    assert service.requests == 2 * 4 and sorted(naps) == [0.1, 0.1, 0.2, 0.2, 0.4, 0.4]


def test_read_timeout_is_bounded():
    """A server that accepts and never answers costs the read timeout, not forever."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        settings = AirflowSettings(url=f"http://127.0.0.1:{port}", token="t", read_timeout_s=0.5, retries=1)
        service = AirflowService(settings, sleep=lambda _: None)
        started = time.monotonic()
        with pytest.raises(AirflowUnavailable, match="timed out"):
            service.dags()
        assert time.monotonic() - started < 5


def test_no_credentials_is_a_clear_error():
    service = AirflowService(AirflowSettings(url=f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(
        AirflowAuthError, match="set AIRFLOW_API_TOKEN, or AIRFLOW_API_USERNAME and AIRFLOW_API_PASSWORD"
    ):
        service.dags()


def test_jwt_expiry_is_read_without_verifying():
    payload = base64.urlsafe_b64encode(json.dumps({"exp": 1234}).encode()).decode().rstrip("=")
    assert _jwt_expiry(f"h.{payload}.s") == 1234
    assert _jwt_expiry("not-a-jwt") is None


def test_service_modules_import_neither_textual_nor_the_rest_client():
    """The runs screen's service is headless, and the REST client is loaded on first use only."""
    import subprocess
    import sys

    code = (
        "import sys, yellowtui.services.airflow.service, yellowtui.services.run_state, yellowtui.cli.airflow\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'airflow_client')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert proc.stdout.strip() == "[]"


def test_demo_has_an_airflow_flag_and_plain_demo_is_unchanged():
    from yellowtui.cli import main

    demo = main.commands["demo"]
    assert [p.name for p in demo.params].count("with_airflow") == 1
    assert {"reset", "theme"} <= {p.name for p in demo.params}
    for name in ("runs", "airflow"):
        assert name in main.commands


def test_a_trigger_is_not_retried_once_it_may_have_reached_airflow():
    """Refused: it never arrived, so it is retried. Timed out reading: it may have created a run,
    so it is not sent again (a second run must not appear behind the operator's back)."""
    refused = AirflowService(
        AirflowSettings(url=f"http://127.0.0.1:{free_port()}", token="t", retries=2), sleep=lambda _: None
    )
    with pytest.raises(AirflowUnavailable):
        refused.trigger("d")
    assert refused.requests == 3
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        settings = AirflowSettings(
            url=f"http://127.0.0.1:{server.getsockname()[1]}", token="t", read_timeout_s=0.3, retries=2
        )
        hanging = AirflowService(settings, sleep=lambda _: None)
        with pytest.raises(AirflowUnavailable, match="timed out"):
            hanging.trigger("d")
        assert hanging.requests == 1


def test_a_replayed_capture_answers_the_recorded_reads_and_nothing_else():
    """The runs screen's snapshots replay real answers: what was read comes back as it was, a
    read nobody recorded is not found, and nothing can be written."""
    from pathlib import Path

    from factory.errors import AirflowNotFound
    from tools.airflow_capture import ReplayAirflowService, load_capture

    capture = load_capture(Path(__file__).resolve().parent / "fixtures" / "runs_capture.json")
    replay = ReplayAirflowService(capture)
    dags = {d.stream_key: d for d in replay.list_dags("yellowlive")}
    assert sorted(dags) == ["Orders", "Payments", "Store1", "Store2", "Store3", "Store4", "Store5"]
    assert [r.state for r in dags["Store1"].recent_runs] == ["success"] * 3
    assert dags["Store2"].last_run is not None and dags["Store2"].last_run.state == "failed"
    assert dags["Store3"].last_run is not None and dags["Store3"].last_run.state == "running"
    with pytest.raises(AirflowNotFound, match="not in the recorded capture"):
        replay.dag_runs("yellowlive__Nope_ingestion")
    with pytest.raises(ReadOnlyError, match="replay: refused to trigger"):
        replay.trigger("yellowlive__Store1_ingestion")
