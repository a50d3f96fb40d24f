"""The synthetic ecosystem generator: reproducible, exact, realistic; its bad rows really are bad."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from factory import store
from factory.db import get_engine
from factory.enums import RowStatus
from factory.errors import StreamConfigError
from factory.models import INGESTION_TYPES, MAX_CONFIG_CHARS, SCHEDULE_PRESETS, parse_config
from factory.names import STREAM_KEY_RE, platform_slug
from factory.operations.provisioning.ecosystem import load_ecosystem, platform_streams
from simulators import ecosystem as generator
from simulators.ecosystem import BREAKAGE_KINDS, bad_rows, ecosystem_yaml, generate_ecosystem, seed_database


def test_same_seed_same_ecosystem_other_seed_other_ecosystem():
    assert generate_ecosystem(3, 120, seed=7) == generate_ecosystem(3, 120, seed=7)
    assert generate_ecosystem(3, 120, seed=7) != generate_ecosystem(3, 120, seed=8)


@pytest.mark.parametrize(("platforms", "streams"), [(1, 0), (1, 1), (2, 7), (3, 250), (1, 1000)])
def test_exact_stream_count_per_platform(platforms, streams):
    eco = generate_ecosystem(platforms, streams, seed=1)
    assert len(eco.platforms) == platforms
    for platform in eco.platforms:
        configs, problems = platform_streams(platform)
        assert problems == []
        assert len(configs) == streams
        assert len({c.stream_key for c in configs}) == streams


def test_platform_names():
    names = [p.name for p in generate_ecosystem(4, 1).platforms]
    assert names == ["YellowLive", "YellowForensic", "Yellow3", "Yellow4"]


def test_realistic_mix():
    eco = generate_ecosystem(1, 1000, seed=0)
    (platform,) = eco.platforms
    configs, _ = platform_streams(platform)
    assert Counter(c.ingestion_type for c in configs).keys() == set(INGESTION_TYPES)
    stores = platform.stores
    assert any(s.single_dataset and len(s.datasets) > 1 for s in stores), "single-dataset stores with several datasets"
    assert any(not s.single_dataset and len(s.datasets) > 1 for s in stores), "multi-dataset stores"
    schedules = {c.schedule for c in configs}
    assert schedules & set(SCHEDULE_PRESETS) and any(s and not s.startswith("@") for s in schedules), "presets and cron"
    assert 0 < sum(c.job_resources is not None for c in configs) < len(configs)
    assert max(len(c.to_json()) for c in configs) <= MAX_CONFIG_CHARS


def test_yaml_round_trip(tmp_path):
    eco = generate_ecosystem(2, 60, seed=4)
    path = tmp_path / "eco.yaml"
    path.write_text(ecosystem_yaml(eco), encoding="utf-8")
    assert load_ecosystem(path) == eco


def test_bad_rows_are_invalid_in_varied_ways():
    generated = {c.stream_key for p in generate_ecosystem(2, 200, seed=0).platforms for c in platform_streams(p)[0]}
    rows = bad_rows("YellowForensic", len(BREAKAGE_KINDS), seed=3)
    assert rows == bad_rows("YellowForensic", len(BREAKAGE_KINDS), seed=3)
    keys = [k for k, _ in rows]
    assert len(set(keys)) == len(keys)
    assert all(STREAM_KEY_RE.fullmatch(k) and k.startswith("Broken") for k in keys)
    assert not set(keys) & generated
    assert {k.split("_", 1)[1] for k in keys} == set(BREAKAGE_KINDS), "every kind of mistake appears"
    for key, raw in rows:
        assert len(raw) <= MAX_CONFIG_CHARS, "it must fit the seed's VARCHAR(2048) column"
        with pytest.raises(StreamConfigError) as caught:
            parse_config(raw, key)
        assert caught.value.problems, key


def test_seed_database_adds_bad_rows_to_table_and_history(db_url, tmp_path):
    eco = generate_ecosystem(2, 25, seed=9)
    summary = seed_database(db_url, eco, bad=3, seed=9, dags_folder=tmp_path / "dags")
    for platform in eco.platforms:
        slug = platform_slug(platform.name)
        info = summary["platforms"][slug]
        assert info["streams"] == 25
        assert len(info["bad"]) == 3
        assert (tmp_path / "dags" / f"{slug}_factory_dag.py").exists()
        with get_engine(db_url).connect() as conn:
            rows = {r.stream_key: r for r in store.read_rows(conn, slug)}
            assert len(rows) == 28
            for key in info["bad"]:
                assert rows[key].status == RowStatus.ACTIVE
                assert store.read_history(conn, slug, key)[0]["action"] == "insert"


def test_command_line_writes_yaml_and_bad_rows(tmp_path, capsys):
    out = tmp_path / "eco.yaml"
    assert generator.main(["--platforms", "2", "--streams", "50", "--bad", "3", "--seed", "1", "-o", str(out)]) == 0
    eco = load_ecosystem(out)
    assert eco == generate_ecosystem(2, 50, seed=1)
    broken = json.loads(out.with_suffix(".bad.json").read_text())
    assert {k: len(v) for k, v in broken.items()} == {"yellowlive": 3, "yellowforensic": 3}
    with pytest.raises(SystemExit):
        generator.main([])
