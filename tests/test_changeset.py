"""Changeset files: round trip, export files as changesets, and errors a person can act on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from factory.errors import ChangesetFileError
from factory.operations.changes.changeset import (
    ChangeBase,
    Changeset,
    Delete,
    SetStatus,
    Upsert,
    changeset_json_schema,
    load_changeset,
    new_changeset,
    parse_changeset,
)
from factory.store import ConfigRow, RowBase, content_digest

STAMP = datetime(2026, 11, 27, 10, 0, 0, 123456)


def _row(key: str = "Store1", config: str = '{"a":1}', status: str = "active") -> ConfigRow:
    return ConfigRow("yellowlive", key, config, status, STAMP, STAMP)


def test_round_trip_keeps_every_change_and_base(tmp_path, sample_config):
    changeset = new_changeset(
        "YellowLive",
        [
            Upsert(stream_key="Store1", config=sample_config, base=ChangeBase.of(_row())),
            Upsert(stream_key="New1", config=json.dumps(sample_config), status="paused", base=ChangeBase.of(None)),
            SetStatus(stream_key="Payments", status="retired"),
            Delete(stream_key="Old", base=ChangeBase(updated_at=STAMP)),
        ],
        created_by="alice",
    )
    path = tmp_path / "cs.json"
    changeset.save(path)
    loaded = load_changeset(path)
    assert loaded == changeset
    assert loaded.platform == "yellowlive"  # the slug, whatever case was given
    data = json.loads(path.read_text())
    assert data["kind"] == "yellow-changeset" and data["format_version"] == 1
    assert data["changes"][0]["base"] == {
        "exists": True,
        "updated_at": STAMP.isoformat(),
        "digest": content_digest('{"a":1}', "active"),
    }
    assert data["changes"][1]["base"] == {"exists": False}
    # The base a change carries is the store's conflict base of the row it was read from.
    assert loaded.changes[0].base.to_row_base() == RowBase.of(_row())


def test_config_export_file_loads_as_upserts_based_on_updated_at(tmp_path):
    export = {
        "platform": "yellowlive",
        "rows": [
            {**_row().to_dict(), "config_json": '{"edited":true}'},
            {"stream_key": "Hand", "config_json": {"x": 1}, "status": "paused"},
        ],
    }
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(export))
    changeset = load_changeset(path)
    first, second = changeset.changes
    assert isinstance(first, Upsert) and first.config_text() == '{"edited":true}'
    # The base is the exported updated_at only: the digest of edited content would never match.
    assert first.base == ChangeBase(exists=True, updated_at=STAMP, digest=None)
    assert second.base is None and second.status == "paused"  # not exported: applied unchecked


def test_a_zoned_updated_at_is_compared_as_the_table_stores_it():
    base = ChangeBase(updated_at=datetime(2026, 11, 27, 11, 0, 0, 123456, tzinfo=UTC).astimezone())
    assert base.updated_at == datetime(2026, 11, 27, 11, 0, 0, 123456)


def test_overlay_later_changes_win(sample_config):
    a = new_changeset("yellowlive", [SetStatus(stream_key="S1", status="paused"), Delete(stream_key="S2")])
    b = new_changeset("yellowlive", [SetStatus(stream_key="S1", status="retired")])
    merged = a.overlaid(b).by_key()
    assert merged["S1"] == SetStatus(stream_key="S1", status="retired") and isinstance(merged["S2"], Delete)
    with pytest.raises(ValueError, match="yellowforensic"):
        a.overlaid(new_changeset("yellowforensic"))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('"just text"', "expected a changeset (with 'changes') or a `config export` file, found str"),
        ('{"hello": 1}', "found an object without 'changes' or 'rows'"),
        ('{"platform": "yellowlive", "changes": [{"stream_key": "S"}]}', "$.changes[0].op: field is missing"),
        ('{"platform": "yellowlive", "changes": [{"op": "frob", "stream_key": "S"}]}', "$.changes[0].op: is 'frob'"),
        (
            '{"platform": "yellowlive", "changes": [{"op": "set_status", "stream_key": "S", "status": "sleep"}]}',
            "$.changes[0].status: Input should be 'active', 'paused' or 'retired'",
        ),
        (
            '{"platform": "yellowlive", "changes": [{"op": "upsert", "stream_key": "S", "config": 5}]}',
            "$.changes[0].config: must be a JSON object or JSON text, not int",
        ),
        (
            '{"platform": "yellowlive", "changes": [{"op": "delete", "stream_key": "a b"}]}',
            "$.changes[0].stream_key: stream key 'a b' is not allowed",
        ),
        (
            '{"platform": "yellowlive", "changes": [{"op": "delete", "stream_key": "S", "bse": {}}]}',
            "$.changes[0].bse: unknown field",
        ),
        (
            '{"platform": "yellowlive", "changes": [{"op": "delete", "stream_key": "S"}, {"op": "delete", "stream_key": "S"}]}',
            "stream 'S' has more than one change",
        ),
        (
            '{"platform": "no such; platform", "changes": []}',
            "$.platform: platform name 'no such; platform' is not allowed",
        ),
        ('{"platform": "yellowlive", "rows": [3]}', "$.rows[0]: must be an object, not int"),
        ('{"platform": "yellowlive", "rows": [{"stream_key": "S"}]}', "$.rows[0].config_json: field is missing"),
        (
            '{"platform": "yellowlive", "rows": [{"stream_key": "S", "config_json": "{}", "updated_at": "soon"}]}',
            "$.rows[0].updated_at: Input should be a valid datetime",
        ),
        ('[{"stream_key": "S", "config_json": "{}"}]', "$.platform: the file names no platform; pass --platform"),
    ],
    ids=lambda v: v[:40] if isinstance(v, str) else None,
)
def test_bad_files_name_the_file_and_the_json_path(tmp_path, content, expected):
    path = tmp_path / "bad-changes.json"
    path.write_text(content)
    with pytest.raises(ChangesetFileError) as caught:
        load_changeset(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and expected in message, message


def test_missing_file_and_platform_mismatch_are_file_errors(tmp_path):
    with pytest.raises(ChangesetFileError, match="cannot read the file"):
        load_changeset(tmp_path / "absent.json")
    with pytest.raises(ChangesetFileError, match="the file is for platform 'yellowlive', not 'yellowforensic'"):
        parse_changeset({"platform": "yellowlive", "changes": []}, "f.json", platform="YellowForensic")
    # A bare list of rows takes its platform from the caller.
    assert parse_changeset([], "f.json", platform="YellowLive").platform == "yellowlive"


def test_json_schema_describes_every_change_kind():
    schema = changeset_json_schema()
    assert schema["title"] == "Yellow changeset"
    assert {"Upsert", "SetStatus", "Delete", "ChangeBase"} <= set(schema["$defs"])
    assert schema["properties"]["changes"]["items"]["discriminator"]["propertyName"] == "op"
    # The schema accepts what the model writes.
    jsonschema = pytest.importorskip("jsonschema")
    example = new_changeset("yellowlive", [Delete(stream_key="S", base=ChangeBase.of(_row()))])
    jsonschema.validate(json.loads(example.to_json()), schema)
    assert Changeset.model_validate_json(example.to_json()) == example
