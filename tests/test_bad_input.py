"""Bad input files and arguments (issue 10, item 6): one clear line, a non-zero exit, bounded
time and memory, no traceback, nothing written."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from factory.db import get_engine
from simulators.ecosystem import generate_ecosystem, seed_database
from yellowtui.cli import main

P = "yellowlive"
BOUND_S = 60  # generous: the shared machine is slow; each case takes well under a second alone

BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)

#: name -> (file content as bytes, or an int: a sparse file of that size)
YAML_CASES: dict[str, bytes | int] = {
    "alias-bomb": BOMB.encode(),
    "recursive-alias": b"a: &a [*a]\n",
    "huge": 17 * 1024 * 1024,
    "binary": bytes(range(256)) * 4,
    "latin1": "platforms: [{name: Caf\xe9}]\n".encode("latin-1"),
    "deep-nesting": b"[" * 50_000 + b"]" * 50_000,
    "empty": b"",
    "top-level-list": b"- 1\n- 2\n",
    "not-yaml": b"platforms: [unclosed\n",
    "tabs": b"platforms:\n\t- name: x\n",
}

JSON_CASES: dict[str, bytes | int] = {
    "huge": 65 * 1024 * 1024,
    "binary": b"\x00\x01\x02" * 100,
    "latin1": '{"platform": "yellowlive", "rows": [{"stream_key": "Caf\xe9"}]}'.encode("latin-1"),
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "long-number": b'{"platform": "yellowlive", "rows": [' + b"1" * 100_000 + b"]}",
    "nan": b'{"platform": "yellowlive", "rows": [NaN]}',
    "empty": b"",
    "null": b"null",
    "string": b'"rows"',
    "number": b"5",
    "empty-list": b"[]",
    "empty-object": b"{}",
    "rows-object": b'{"platform": "yellowlive", "rows": {}}',
    "rows-of-numbers": b'{"platform": "yellowlive", "rows": [1, 2]}',
    "row-wrong-types": b'{"platform": "yellowlive", "rows": [{"stream_key": 5, "config_json": [], "status": {}}]}',
    "other-platform": b'{"platform": "yellowforensic", "rows": []}',
    "bad-platform": b'{"platform": "x; drop table", "rows": []}',
    "duplicate-keys": b'{"platform": "yellowlive", "rows": [{"stream_key": "A", "config_json": "{\\"a\\": 1, \\"a\\": 2}"}]}',
    "changes-not-list": b'{"platform": "yellowlive", "changes": 5}',
    "unknown-op": b'{"platform": "yellowlive", "changes": [{"op": "drop", "stream_key": "A"}]}',
}

BAD_URLS = [
    "postgresql://localhost:99999/db",
    "postgresql://localhost:abc/db",
    "not a url",
    "mysql://localhost/db",
    "postgresql://u:p@127.0.0.1:1/db?connect_timeout=1",
    "postgresql://u@127.0.0.1:1/db?sslmode=bogus",
    "postgresql://u@/db?host=/nonexistent/socket/dir",
    "postgresql+psycopg2://u@127.0.0.1:1/db?options=-c%20statement_timeout%3Dabc&connect_timeout=1",
    "",
]


def _file(tmp_path: Path, name: str, content: bytes | int, suffix: str) -> Path:
    path = tmp_path / f"{name}{suffix}"
    if isinstance(content, int):
        with path.open("wb") as handle:
            handle.truncate(content)  # sparse: the size check must refuse it before reading
    else:
        path.write_bytes(content)
    return path


def _one_clear_failure(result: Any, started: float) -> None:
    elapsed = time.monotonic() - started
    assert elapsed < BOUND_S, f"took {elapsed:.1f} s"
    assert result.exit_code not in (0, None), result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (RecursionError, MemoryError))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    said = result.output.lower()
    assert "error" in said or "problem" in said or "nothing" in said or "fails to build" in said


@pytest.fixture(scope="module")
def seeded_url(pg: Any) -> str:
    url = pg.create_database("bad_input_cases")
    seed_database(url, generate_ecosystem(1, 3, 4))
    return url


def _table(url: str) -> list[Any]:
    with get_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {P}_airflow_dsg ORDER BY 1"))]


@pytest.mark.parametrize("name", sorted(YAML_CASES))
def test_bad_ecosystem_files(name: str, tmp_path: Path, seeded_url: str) -> None:
    path = _file(tmp_path, name, YAML_CASES[name], ".yaml")
    dags = tmp_path / "dags"
    before = _table(seeded_url)
    started = time.monotonic()
    result = CliRunner().invoke(main, ["bootstrap", str(path), "--db", seeded_url, "--dags-folder", str(dags)])
    _one_clear_failure(result, started)
    assert not dags.exists() and _table(seeded_url) == before


@pytest.mark.parametrize("command", ["import", "apply", "simulate"])
@pytest.mark.parametrize("name", sorted(JSON_CASES))
def test_bad_import_and_changeset_files(command: str, name: str, tmp_path: Path, seeded_url: str) -> None:
    path = _file(tmp_path, name, JSON_CASES[name], ".json")
    args = {
        "import": ["config", "import", str(path), "-p", P],
        "apply": ["apply", str(path), "-p", P],
        "simulate": ["simulate", "-p", P, "--with", str(path)],
    }[command]
    before = _table(seeded_url)
    started = time.monotonic()
    result = CliRunner().invoke(main, [*args, "--db", seeded_url])
    if name in ("empty-list", "rows-object") and command != "import":
        pass  # an empty export is a valid, empty changeset for apply and simulate
    if result.exit_code == 0:
        assert name in ("empty-list", "other-platform") or "rows" in name, (name, result.output)
    else:
        _one_clear_failure(result, started)
    assert _table(seeded_url) == before


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("command", [["config", "list"], ["simulate", "-p", P], ["config", "pause", "A", "-p", P]])
def test_bad_database_urls(url: str, command: list[str]) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(main, [*command, "--db", url], env={"YELLOW_DB_CONNECT_TIMEOUT": "2"})
    _one_clear_failure(result, started)
    assert result.output.count("\n") <= 3, result.output


@pytest.mark.parametrize(
    "args",
    [
        ["schema", "-o"],
        ["changeset", "schema", "-o"],
        ["config", "export", "-p", P, "-o"],
    ],
)
def test_output_into_a_missing_folder(args: list[str], tmp_path: Path, seeded_url: str) -> None:
    target = tmp_path / "missing" / "out.json"
    extra = ["--db", seeded_url] if "export" in args else []
    started = time.monotonic()
    result = CliRunner().invoke(main, [*args, str(target), *extra])
    _one_clear_failure(result, started)
    assert "does not exist" in result.output and not target.parent.exists()


def test_numbers_of_cases() -> None:
    """The counts docs/security.md records."""
    assert (len(YAML_CASES), len(JSON_CASES) * 3, len(BAD_URLS) * 3, 3) == (10, 60, 27, 3)
    json.dumps(YAML_CASES["alias-bomb"].decode())  # the bomb is plain text, as an attacker would send it
