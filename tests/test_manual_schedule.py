"""A null schedule means "manual runs only" and must survive every round trip: the row's JSON
and the snapshot the loader reuses on the next parse (it used to come back as "@hourly", so a
manual-only stream started running hourly from its second parse on)."""

from __future__ import annotations

import json

import pytest

from factory.models import StreamConfig, parse_config

pytestmark = pytest.mark.airflow


def test_to_json_keeps_a_null_schedule(sample_config):
    config = StreamConfig.model_validate({**sample_config, "schedule": None})
    assert json.loads(config.to_json())["schedule"] is None
    assert parse_config(config.to_json()).schedule is None
    # Nulls that mean nothing are still left out.
    assert "slack_credential_secret_name" not in json.loads(
        StreamConfig.model_validate({**sample_config, "slack_credential_secret_name": None}).to_json()
    )


def test_the_reused_snapshot_keeps_a_null_schedule(db_url, sample_config, tmp_path):
    from factory import store
    from factory.db import get_engine
    from factory.enums import RowStatus
    from factory.loader import load_platform

    config = StreamConfig.model_validate({**sample_config, "schedule": None})
    with get_engine(db_url).begin() as conn:
        store.ensure_tables(conn, "yellowlive")
        store.write_row(conn, "yellowlive", config.stream_key, config.to_json(), RowStatus.ACTIVE, actor="test")
    snap = tmp_path / "snap"
    first = load_platform("yellowlive", url=db_url, conn_id=None, dag_id=None, snapshot_dir=snap, record=False)
    second = load_platform("yellowlive", url=db_url, conn_id=None, dag_id=None, snapshot_dir=snap, record=False)
    assert second.reused == 1  # the second parse really took the snapshot's config
    for result in (first, second):
        dag = result.dags["yellowlive__Store1_ingestion"]
        assert type(dag.timetable).__name__ == "NullTimetable", result.source
