"""What the dashboard shows of Airflow beside the live runs screen, through the pilot on a real
PostgreSQL: without Airflow configured, one hint and nothing broken; the errors screen's Airflow
group (import errors of the factory file, DAG warnings; text shown literally) and the streams
header's count of DAGs no row explains. The Airflow state is set as the poll would set it (the
live poll is proven in tests/test_airflow_runs_screen.py against a real Airflow)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.test_dashboard import SIZE, loaded, screen_text, seed
from yellowtui.airflow_state import AirflowView
from yellowtui.app import make_app
from yellowtui.screens.errors import ErrorsScreen
from yellowtui.screens.runs import CONNECT_HINT, RunsScreen
from yellowtui.screens.trigger_dialog import TriggerDialog
from yellowtui.services.airflow.models import DagState, DagWarningState, ImportErrorState
from yellowtui.services.run_state import PlatformRunState, UnexplainedDag
from yellowtui.widgets.config_table import ConfigTable

AT = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def _state(platform: str) -> PlatformRunState:
    trace = 'Traceback (most recent call last):\n  File "f.py", line 3\nValueError: bad \x1b[31mred\x1b[0m'
    ghost = DagState(f"{platform}__Ghost_ingestion", "Ghost", False, False)
    return PlatformRunState(
        platform=platform,
        airflow_url="http://127.0.0.1:8080",
        fetched_at=AT,
        dags=(),
        unexplained=(UnexplainedDag(ghost, "no config row has this stream key"),),
        import_errors=(ImportErrorState(f"/dags/{platform}_factory_dag.py", AT, trace),),
        dag_warnings=(DagWarningState(f"{platform}__Store1_ingestion", "non-existent pool", "pool 'x' missing", AT),),
    )


async def test_errors_screen_lists_airflows_problems_literally_and_streams_count_unexplained(db_url: str) -> None:
    summary = seed(db_url, streams=5, bad=1)
    platform = sorted(summary["platforms"])[0]
    app = make_app(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        app.platform = platform
        app.airflow_view = AirflowView(configured=True, url="http://127.0.0.1:8080").refreshed(
            (_state(platform),), datetime(2025, 6, 2, 12, 0)
        )
        await pilot.pause()
        assert "1 DAG(s) without a row (4)" in screen_text(app)
        await pilot.press("2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ErrorsScreen)
        assert [p.kind for p in screen.airflow_problems] == ["import error", "DAG warning"]
        text = screen_text(app)
        assert "Airflow: import errors and DAG warnings" in text
        assert "ValueError: bad \\x1b[31mred\\x1b[0m" in text  # written out, not interpreted
        assert "non-existent pool: pool 'x' missing" in text


async def test_without_airflow_the_runs_screen_says_how_to_connect(db_url: str) -> None:
    seed(db_url, streams=5, bad=0)
    app = make_app(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        assert app.screen.has_class("-unconfigured")
        text = " ".join(screen_text(app).split())
        assert "Airflow is not connected" in text and "--airflow" in text and "AIRFLOW_API_URL" in text
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, TriggerDialog)
        assert any(n.message == CONNECT_HINT for n in app._notifications)
        await pilot.press("1")
        await pilot.pause()
        table = app.screen.query_one(ConfigTable)
        assert table.model.airflow == {} and not table.show_airflow  # no Airflow column without Airflow
