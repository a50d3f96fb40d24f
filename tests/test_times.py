"""The one formatter of times shown to people: the display zone applied, naive times taken as UTC
(as the database stores them), a missing time shown as such; the zone reaches the dashboard and
the command line from the profile. No database, no app running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import click
import pytest

from yellowtui.presenters.times import LOCAL_TIMES, MISSING, UTC_TIMES, Times, ago, aware, relative
from yellowtui.profiles import Profile

DUBLIN = ZoneInfo("Europe/Dublin")
#: Noon UTC on a summer day (Dublin is UTC+1) and on a winter day (Dublin is UTC).
SUMMER = datetime(2025, 6, 2, 12, 0, 5)
WINTER = datetime(2025, 12, 2, 12, 0, 5)


def test_the_display_zone_is_applied_to_naive_times_taken_as_utc() -> None:
    dublin = Times(DUBLIN)
    assert dublin.clock(SUMMER) == "13:00:05"
    assert dublin.clock(WINTER) == "12:00:05"
    assert dublin.date_time(SUMMER.replace(hour=23, minute=30)) == "2025-06-03 00:30:05"  # the next day there


def test_aware_times_are_converted_from_their_own_zone() -> None:
    new_york = datetime(2025, 6, 2, 8, 0, 5, tzinfo=ZoneInfo("America/New_York"))  # 12:00:05 UTC
    assert Times(DUBLIN).clock(new_york) == "13:00:05"
    assert UTC_TIMES.clock(new_york) == "12:00:05"
    assert Times(timezone(timedelta(hours=-3))).clock(SUMMER.replace(tzinfo=UTC)) == "09:00:05"


def test_every_format() -> None:
    utc = UTC_TIMES
    assert utc.clock(SUMMER) == "12:00:05"
    assert utc.day_clock(SUMMER) == "06-02 12:00:05"
    assert utc.day_minute(SUMMER) == "06-02 12:00"
    assert utc.date_time(SUMMER) == "2025-06-02 12:00:05"
    assert utc.date_minute(SUMMER) == "2025-06-02 12:00"


def test_a_missing_time_reads_as_missing() -> None:
    for fmt in (Times.clock, Times.day_clock, Times.day_minute, Times.date_time, Times.date_minute):
        assert fmt(Times(DUBLIN), None) == MISSING == "—"
        assert fmt(Times(DUBLIN), None, missing="-") == "-"


def test_no_zone_is_the_machines_local_zone() -> None:
    local = SUMMER.replace(tzinfo=UTC).astimezone()
    assert LOCAL_TIMES.zone is None and Times() == LOCAL_TIMES
    assert LOCAL_TIMES.date_time(SUMMER) == local.strftime("%Y-%m-%d %H:%M:%S")
    assert LOCAL_TIMES.local(SUMMER) == local


def test_aware_leaves_a_zone_alone_and_gives_a_naive_time_utc() -> None:
    zoned = SUMMER.replace(tzinfo=DUBLIN)
    assert aware(zoned) is zoned
    assert aware(SUMMER) == SUMMER.replace(tzinfo=UTC)


def test_ages_take_naive_times_as_utc_on_either_side() -> None:
    now = SUMMER.replace(tzinfo=UTC)
    assert ago(SUMMER - timedelta(seconds=30), now) == "30 s ago"
    assert ago((now - timedelta(minutes=4)).astimezone(DUBLIN), SUMMER) == "4 min ago"
    assert ago(SUMMER - timedelta(hours=3), SUMMER) == "3 h ago"
    assert ago(SUMMER - timedelta(days=2), now) == "2 d ago"
    assert ago(SUMMER + timedelta(seconds=5), now) == "0 s ago"  # a clock a little ahead is not the future
    assert ago(None, now) == "never"
    assert relative((now - timedelta(minutes=3)).astimezone(DUBLIN), SUMMER) == "3m ago"
    assert relative(SUMMER + timedelta(minutes=4), now) == "in 4m"
    assert relative(None, now) == MISSING


def test_the_dashboard_shows_times_in_the_given_zone_else_the_profiles() -> None:
    from yellowtui.app import YellowApp

    url = "postgresql://nobody@localhost:1/none"  # never connected: the app is not run
    assert YellowApp(url).times == LOCAL_TIMES
    assert YellowApp(url, display_tz=UTC).times == UTC_TIMES
    assert YellowApp(url, profile=Profile(name="ie", timezone="Europe/Dublin")).times == Times(DUBLIN)
    assert YellowApp(url, display_tz=UTC, profile=Profile(name="ie", timezone="Europe/Dublin")).times == UTC_TIMES


def test_the_dashboards_own_clock_reads_utc() -> None:
    from yellowtui.app import YellowApp

    now = YellowApp("postgresql://nobody@localhost:1/none").now()
    assert now.tzinfo is UTC


@pytest.mark.parametrize(
    ("profile", "zone"),
    [(None, None), (Profile(name="p"), None), (Profile(name="ie", timezone="Europe/Dublin"), DUBLIN)],
)
def test_a_command_shows_times_in_its_profiles_zone(profile: Profile | None, zone: ZoneInfo | None) -> None:
    from yellowtui.cli import main
    from yellowtui.cli.core import times
    from yellowtui.profile_apply import META_KEY

    with click.Context(main) as ctx:
        ctx.meta[META_KEY] = profile
        assert times() == Times(zone)
