"""``profiles check``: can this profile reach its database and its Airflow? One line each.

Each check is bounded (the database's connect timeout, Airflow's connect and read timeouts) and
its line never quotes a password or token: URLs are shown redacted, errors as one redacted line.
"""

from __future__ import annotations

from collections.abc import Mapping

from factory.db import DB_URL_ENV
from factory.errors import first_line
from yellowtui.profiles import Profile

Result = tuple[bool, str]


def check_database(profile: Profile, values: Mapping[str, str]) -> Result:
    """Connect and list the platform tables."""
    url = values.get(DB_URL_ENV)
    if not url:
        where = f"${profile.db_url_env} is not set" if profile.db_url_env else "no db_url or db_url_env"
        return False, f"database  FAIL  {where}"
    from factory.db import check_url, redact
    from yellowtui.services.config_service import ConfigService

    try:
        check_url(url)
        platforms = ConfigService(url).platforms()
    except Exception as exc:  # every failure is one line, whatever raised it
        reason = first_line(exc, driver=False, redact=True)
        return False, f"database  FAIL  {reason if redact(url) in reason else f'{redact(url)}: {reason}'}"
    names = ", ".join(platforms) or "no platform tables yet"
    return True, f"database  ok    {redact(url)} ({len(platforms)} platform(s): {names})"


def check_airflow(profile: Profile, values: Mapping[str, str]) -> Result:
    """Ask Airflow's health endpoint, then list DAGs once, which needs the login to work."""
    from factory.redact import display_url
    from yellowtui.services.airflow.service import AirflowService
    from yellowtui.services.airflow.settings import API_URL_ENV, PASSWORD_ENV, TOKEN_ENV, AirflowSettings

    url = values.get(API_URL_ENV)
    if not url:
        return True, "airflow   -     not configured (no airflow_url)"
    secrets = tuple(v for k, v in values.items() if k in (TOKEN_ENV, PASSWORD_ENV))
    try:
        settings = AirflowSettings.from_env(environ=values, retries=0, connect_timeout_s=3.0, read_timeout_s=5.0)
        service = AirflowService(settings)
        health = service.health()
        service.dags("yellowtui-profile-check-")  # no such DAG: one cheap request that needs the login
    except Exception as exc:
        return False, f"airflow   FAIL  {display_url(url)}: {first_line(exc, driver=False, secrets=secrets)}"
    state = (
        "healthy"
        if health.healthy
        else "answers, not all healthy: "
        + ", ".join(f"{k} {v}" for k, v in health.components.items() if v != "healthy")
    )
    login = "token" if settings.token else "login" if settings.can_login else "no credentials"
    return True, f"airflow   ok    {display_url(url)} ({state}; {login} accepted)"
