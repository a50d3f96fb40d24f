"""One way in (issue 17, item 1): every path from outside data to a StreamConfig goes through
:func:`factory.models.parse_config`, which applies the model, the size limit, the credential
scan, the platform's policy and the key rules.

The scan proves no other module calls ``StreamConfig.model_validate`` or builds a StreamConfig
itself; the CLI test proves the gap that scan closes: a credential in an ecosystem file used to
reach the rows, the static files and ``config show``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml
from click.testing import CliRunner
from sqlalchemy import text

from factory.db import get_engine
from yellowtui.cli import main

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("factory", "yellowtui", "simulators", "tools")
#: The one module allowed to turn data into a StreamConfig: the model's own (parse_config).
DOOR = "factory/models.py"
#: Built from configs the door validated before they were written (the last-known-good
#: snapshot is our own cache, reused without validation on purpose: that is its job).
TRUSTED_REBUILD = {"factory/snapshot.py": {"model_construct"}}
BUILDERS = {"model_validate", "model_validate_json", "model_validate_strings", "model_construct", "construct"}

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"


def _stream_config_builds(path: Path) -> list[tuple[int, str]]:
    """(line, how) of every place the file builds a StreamConfig itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "StreamConfig":
            found.append((node.lineno, "StreamConfig(...)"))
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in BUILDERS
            and isinstance(func.value, ast.Name)
            and func.value.id == "StreamConfig"
        ):
            found.append((node.lineno, f"StreamConfig.{func.attr}"))
    return found


def test_no_module_but_the_door_builds_a_stream_config() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == DOOR:
                continue
            for line, how in _stream_config_builds(path):
                if how.removeprefix("StreamConfig.") in TRUSTED_REBUILD.get(rel, set()):
                    continue
                offenders.append(f"{rel}:{line}: {how}")
    assert not offenders, "build StreamConfig only through factory.models.parse_config:\n" + "\n".join(offenders)


def test_the_scan_sees_a_direct_build(tmp_path: Path) -> None:
    """The scan itself works: the code it must refuse is found."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from factory.models import StreamConfig\n"
        "a = StreamConfig.model_validate({})\n"
        "b = StreamConfig(stream_key='x')\n"
        "c = StreamConfig.model_validate_json('{}')\n",
        encoding="utf-8",
    )
    assert [how for _, how in _stream_config_builds(sample)] == [
        "StreamConfig.model_validate",
        "StreamConfig(...)",
        "StreamConfig.model_validate_json",
    ]


def _ecosystem_with(tmp_path: Path, **store_fields: object) -> Path:
    data = yaml.safe_load((ROOT / "yellowtui" / "examples" / "ecosystem.yaml").read_text(encoding="utf-8"))
    data["platforms"] = data["platforms"][:1]
    data["platforms"][0]["stores"][0].update(store_fields)
    path = tmp_path / "eco.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_credential_in_an_ecosystem_file_reaches_no_row_and_no_file(tmp_path: Path, db_url: str) -> None:
    """A dataset named like an AWS access key is a valid name to the model alone; the credential
    scan refuses it, by its path, without echoing it, before anything is written."""
    eco = _ecosystem_with(tmp_path, datasets=["customers", AWS_KEY])
    check = CliRunner().invoke(main, ["bootstrap", str(eco), "--check"])
    assert check.exit_code == 1, check.output
    assert "datasets[1]" in check.output and "AWS access key" in check.output
    assert AWS_KEY not in check.output
    dags = tmp_path / "dags"
    for extra in ([], ["--static"]):
        run = CliRunner().invoke(main, ["bootstrap", str(eco), "--db", db_url, "--dags-folder", str(dags), *extra])
        assert run.exit_code == 1, run.output
        assert AWS_KEY not in run.output
    with get_engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT to_regclass('yellowlive_airflow_dsg')")).scalar_one() is None
    assert not dags.exists() or not [p for p in dags.rglob("*") if p.is_file()]


def test_ecosystem_streams_get_the_same_problems_as_rows(tmp_path: Path) -> None:
    """The ecosystem path reports what parse_config reports for the same payload: the size limit
    and the policy, each once, at its path."""
    from factory.errors import EcosystemError, StreamConfigError
    from factory.models import parse_config
    from factory.operations.provisioning.ecosystem import load_ecosystem, platform_streams, stream_payloads

    eco = _ecosystem_with(tmp_path, datasets=[f"d{i:03d}_{'x' * 60}" for i in range(40)])
    try:
        load_ecosystem(eco)
    except EcosystemError as exc:
        problems = exc.problems
    else:  # pragma: no cover
        raise AssertionError("an oversized stream was accepted")
    assert any("over the 2048 the table holds" in p for p in problems)
    platform = yaml.safe_load(eco.read_text(encoding="utf-8"))["platforms"][0]
    from factory.operations.provisioning.ecosystem import PlatformSpec, platform_policy

    spec = PlatformSpec.model_validate(platform)
    payload = stream_payloads(spec)[0]
    try:
        parse_config(payload, payload["stream_key"], policy=platform_policy(spec))
    except StreamConfigError as exc:
        expected = [f"platform {spec.name}, stream {payload['stream_key']}: {p}" for p in exc.problems]
    assert [p for p in platform_streams(spec)[1] if p.startswith(f"platform {spec.name}, stream Store1:")] == expected
