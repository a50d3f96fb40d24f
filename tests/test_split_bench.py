"""The split benchmark's arguments, result model and report, without starting Airflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.split import DEFAULT_STREAMS_PER_FILE, files_for
from simulators.bench_docs import write_section
from simulators.split_bench import (
    NOTES_MARK,
    SECTION,
    BenchResult,
    FileResult,
    VariantResult,
    command_line,
    parse_args,
    report,
)


def test_default_split_is_what_bootstrap_would_choose():
    args = parse_args(["--streams", "20000"])
    assert args.files == [files_for(20000, DEFAULT_STREAMS_PER_FILE)]
    assert parse_args(["--streams", "20000", "--streams-per-file", "1000"]).files == [20]
    assert command_line(parse_args(["--streams", "20000", "--files", "8", "16"])) == (
        "python -m simulators.split_bench --streams 20000 --files 8 16 --write-docs"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--streams", "1"],
        ["--streams", "100", "--files", "1"],
        ["--streams", "100", "--files", "101"],
        ["--streams", "100", "--files", "4", "4"],
        ["--streams", "100"],  # fits one file at the default streams per file: say which K
        ["--streams", "100", "--files", "2", "--cap", "0"],
        ["--streams", "100", "--files", "2", "--parsing-processes", "0"],
    ],
)
def test_bad_arguments_stop_before_anything_starts(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def _result(one_listed: float | None, split_parses: list[float], split_listed: float | None = 100.0) -> BenchResult:
    one = VariantResult(1, 20000, 360.0, all_listed_s=one_listed, observed_s=one_listed or 360.0)
    one.per_file = [FileResult("p_factory_dag.py", errors=[(40.0, "DagBag import timeout")], import_timeouts=1)]
    split = VariantResult(2, 20000, 360.0, all_listed_s=split_listed, observed_s=160.0)
    split.per_file = [
        FileResult("p_factory_dag.py", dags=10000, parses_s=split_parses),
        FileResult("p_factory_dag_1.py", dags=10000, parses_s=[5.0]),
    ]
    env = {"date": "d", "machine": "m", "python": "3.11", "airflow": "3", "load_at_start": [1.0, 1.0, 1.0]}
    return BenchResult(20000, 0, [one, split], env, {})


def test_a_capped_one_file_gives_a_lower_bound_and_targets_are_judged():
    result = _result(None, [6.0, 4.0])
    assert result.speedup(result.splits[0]) == (3.6, True)
    assert [met for _, _, met in result.targets()] == [True, True]
    slow = _result(150.0, [12.0])
    assert slow.speedup(slow.splits[0]) == (1.5, False)
    assert [met for _, _, met in slow.targets()] == [False, False]
    unlisted = _result(None, [6.0], split_listed=None)
    assert unlisted.speedup(unlisted.splits[0]) == (None, False)
    assert result.to_dict()["variants"][0]["any_timeout"] is True


def test_the_report_says_what_was_capped_and_the_docs_keep_hand_written_notes(tmp_path: Path):
    text = report(_result(None, [6.0, 4.0]), "python -m simulators.split_bench --streams 20000 --files 2")
    assert (
        text.startswith(SECTION)
        and "not within 360 s" in text
        and "never listed" in text
        and "listed all in 100 s" in text
    )
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Other\n\nkept\n", encoding="utf-8")
    write_section(SECTION, text, doc, notes_mark=NOTES_MARK)
    body = doc.read_text(encoding="utf-8")
    notes = body.replace(NOTES_MARK, NOTES_MARK + "\nWhy the default.")
    doc.write_text(notes + "\n## Later\n\nalso kept\n", encoding="utf-8")
    write_section(SECTION, text.replace("100 s", "101 s"), doc, notes_mark=NOTES_MARK)
    again = doc.read_text(encoding="utf-8")
    assert "## Other\n\nkept" in again and "Why the default." in again and "## Later\n\nalso kept" in again
    assert "listed all in 101 s" in again and "listed all in 100 s" not in again and again.count(SECTION) == 1


def test_settled_layout_builds_only_each_files_own_streams(db_url, tmp_path: Path):
    """Splitting a platform that already ran as one file hands over from that file; `--settled`
    starts where that hand-over ends."""
    from sqlalchemy import create_engine

    from factory.loader import load_platform
    from factory.operations.provisioning.bootstrap import Split, bootstrap
    from factory.split import read_layout
    from simulators.ecosystem import generate_ecosystem
    from simulators.split_bench import mark_settled

    eco = generate_ecosystem(1, 20, seed=3)
    bootstrap(eco, db_url, tmp_path / "dags")
    load_platform("yellowlive", url=db_url, conn_id=None, snapshot_dir=tmp_path / "snapshots")  # it ran as one file
    (result,) = bootstrap(eco, db_url, tmp_path / "dags", split=Split(files=3))
    assert result.layout.moving
    mark_settled(db_url, result.platform)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            layout = read_layout(conn, result.platform)
    finally:
        engine.dispose()
    assert layout.files == 3 and layout.settled and not layout.moving


def test_import_timeouts_are_read_from_each_file_processors_log(tmp_path: Path):
    """A processor killed before the manager read its result leaves only its own log line."""
    from simulators.split_bench import _import_alarms

    dated = tmp_path / "dag_processor" / "2026-11-27" / "dags-folder"
    dated.mkdir(parents=True)
    (dated / "p_factory_dag.py.log").write_text('{"event":"Process timed out, PID: 7"}\n' * 2, encoding="utf-8")
    (dated / "p_factory_dag_1.py.log").write_text('{"event":"Filling up the DagBag"}\n', encoding="utf-8")
    (tmp_path / "dag_processor" / "latest").symlink_to(dated.parent)
    assert _import_alarms(tmp_path) == {"p_factory_dag.py": 2}


def test_a_saved_result_renders_the_same_report():
    """`--json` then `--from-json` gives back the report, so the docs can be rewritten without a rerun."""
    import json

    result = _result(None, [6.0, 4.0])
    result.command = "python -m simulators.split_bench --streams 20000 --files 2 --write-docs"
    again = BenchResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert report(again, again.command) == report(result, result.command)
