"""Hostile rows and credentials, against a real PostgreSQL and real Airflow parsing.

Each class of issue 10 (items 2-4) has an explicit list of hostile cases (parametrized) and,
where the input space is large, a hypothesis property. The default run uses few examples; the
``hostile`` marker (``pytest -m hostile``) runs many more. ``docs/security.md`` records the counts:
``python -m tests.test_hostile_rows`` prints them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, text

from factory import store
from factory.credentials import credential_kind
from factory.enums import Outcome, RowStatus
from factory.errors import StreamConfigError
from factory.loader import build_configs, load_platform
from factory.models import parse_config
from factory.names import dag_id_for
from factory.policy import PlatformPolicy, write_policy
from factory.redact import redact_text, redact_url
from factory.tables import platform_tables
from tests.conftest import EXAMPLE_ECOSYSTEM
from tests.samples import SAMPLE_CONFIG

SLUG = "yellowlive"
DEFAULT_EXAMPLES = 30
HOSTILE_EXAMPLES = 600
DB_EXAMPLES = 12
HOSTILE_DB_EXAMPLES = 150
CLI_EXAMPLES = 6
HOSTILE_CLI_EXAMPLES = 60

BASE = SAMPLE_CONFIG  # read only here: every use copies it first
POLICY = PlatformPolicy(
    SLUG,
    namespaces=("yellow-live",),
    image_repositories=("datasurface/datasurface",),
    secret_names=("postgres-demo-creds", "git-demo-creds", "slack-demo-creds", "store1-source-creds"),
)


def _examples(request: pytest.FixtureRequest, default: int, hostile: int) -> int:
    return hostile if "hostile" in (request.config.option.markexpr or "") else default


def row(key: str, **changes) -> str:
    data = {**BASE, "stream_key": key, "store_name": key.split("_", maxsplit=1)[0] or "S", **changes}
    return json.dumps({k: v for k, v in data.items() if v is not None})


def problems_of(raw: str | dict, key: str | None = None, policy: PlatformPolicy | None = None) -> list:
    with pytest.raises(StreamConfigError) as caught:
        parse_config(raw, stream_key=key, policy=policy)
    return caught.value.problems


# ---- strategies -------------------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
STREAM_KEYS = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,20}\Z").filter(lambda k: "__" not in k)
FIELDS = sorted(BASE)


@st.composite
def good_rows(draw: st.DrawFn) -> tuple[str, dict]:
    key = draw(STREAM_KEYS)
    data = dict(BASE, stream_key=key, store_name="Store1")
    data["datasets"] = draw(st.lists(st.from_regex(r"\A[a-z][a-z0-9_]{0,12}\Z"), min_size=1, max_size=5, unique=True))
    data["single_dataset"] = len(data["datasets"]) == 1 and draw(st.booleans())
    data["postgres_port"] = draw(st.integers(1, 65535))
    data["schedule"] = draw(st.sampled_from(["@hourly", "@daily", "*/5 * * * *", "0 3 * * 1", "0 0 29 2 *", None]))
    if data["schedule"] is None:
        del data["schedule"]
    return key, data


def _hostile_text(draw: st.DrawFn, key: str) -> str:
    """One hostile config_json text for row ``key`` (the kinds of hostility are drawn)."""
    data = dict(BASE, stream_key=key)
    kind = draw(
        st.sampled_from(
            [
                "field",
                "drop",
                "extra",
                "duplicate",
                "deep",
                "huge",
                "nan",
                "nul",
                "credential",
                "never",
                "foreign",
                "garbage",
                "not-object",
            ]
        )
    )
    field = draw(st.sampled_from(FIELDS))
    if kind == "field":
        data[field] = draw(JSON_VALUES.filter(lambda v, f=field: v != BASE[f]))
        if field == "stream_key" and data[field] == key:
            data[field] = 7
    elif kind == "drop":
        del data[field if field not in ("schema_version", "ingestion_type", "postgres_port") else "datasets"]
    elif kind == "extra":
        data[draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in BASE))] = draw(JSON_VALUES)
    elif kind == "duplicate":
        text_ = json.dumps(data)
        return text_[:-1] + f', "{field}": {json.dumps(BASE[field])}}}'
    elif kind == "deep":
        depth = draw(st.integers(17, 900))
        return json.dumps(data)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    elif kind == "huge":
        return json.dumps(data)[:-1] + ', "postgres_port": ' + "9" * draw(st.integers(20, 1500)) + "}"
    elif kind == "nan":
        return (
            json.dumps(data)[:-1]
            + ', "postgres_port": '
            + draw(st.sampled_from(["NaN", "Infinity", "-Infinity"]))
            + "}"
        )
    elif kind == "nul":
        data[field if field != "stream_key" else "store_name"] = "a\x00b" + draw(st.text(max_size=5))
        data[draw(st.sampled_from(["\x00", "k\x00", "\ud800", "\x1b[31m"]))] = 1
    elif kind == "credential":
        data[field if field != "stream_key" else "git_repo_url"] = draw(st.sampled_from(CREDENTIAL_VALUES))
    elif kind == "never":
        data["schedule"] = draw(st.sampled_from(NEVER_FIRING))
    elif kind == "foreign":
        target, value = draw(st.sampled_from(OUTSIDE_POLICY))
        data[target] = value
    elif kind == "garbage":
        return draw(st.text(max_size=200).filter(lambda t: "\x00" not in t))
    elif kind == "not-object":
        return json.dumps(draw(JSON_SCALARS | st.lists(JSON_SCALARS, max_size=3)))
    return json.dumps(data)  # ASCII-escaped: NUL and surrogates stay storable text


@st.composite
def hostile_rows(draw: st.DrawFn) -> tuple[str, str]:
    key = draw(STREAM_KEYS)
    return key, _hostile_text(draw, key)


# ---- explicit hostile cases, one list per class ---------------------------------------------

CREDENTIAL_VALUES = [
    "https://user:tok3n@github.com/org/repo.git",
    "https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/org/repo.git",
    "https://x-access-token:abc123def@github.com/org/repo.git",
    "https://oauth2:glpat-abcdefghijklmnop12@gitlab.com/org/repo.git",
    "https://u:pa/ss@github.com/org/repo.git",
    "https://u:p@ss@github.com/org/repo.git",
    "https://github.com/org/repo.git?access_token=abc123",
    "https://github.com/org/repo.git?private_token=abc123",
    "ssh://git:hunter2@github.com/org/repo.git",
    "postgresql://svc:hunter2@db.internal/prod",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "xoxb-123456789012-abcdefghijkl",
    "xoxp-123456789012-abcdefghijkl",
    "AKIAIOSFODNN7EXAMPLE",
    "-----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "AIzaSyA1234567890abcdefghijklmnopqrstu",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc",
    "Bearer abcdefghijklmnop123",
    "sk-abcdefghijklmnopqrstuvwxyz012345",
    "wJalrXUtnFEMI7K7MDENGbPxRfiCYEXAMPLEKEY",
    "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRkdISUpL",
]
NOT_CREDENTIALS = [
    "datasurface/datasurface@sha256:" + "a1b2c3d4" * 8,
    "registry.example.com:5000/team/job:1.2",
    "https://github.com/yellowdataplatform/ecosystem-model.git",
    "ssh://git@github.com/org/repo.git",
    "git@github.com:org/repo.git",
    "postgres-demo-creds",
    "yellowlive-store1-source-token-secret",
    "customer_addresses_2024_q1_snapshot_v2_final",
    "pg-data.yellow.svc.cluster.local",
]
NEVER_FIRING = ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4 *", "0 0 31 6 *", "0 0 31 9 *", "0 0 31 11 *", "0 0 30,31 2 *"]
STRICT_TYPES = [
    ("postgres_port", True),
    ("postgres_port", "5432"),
    ("postgres_port", 5432.0),
    ("single_dataset", "yes"),
    ("single_dataset", 1),
    ("single_dataset", "true"),
    ("schema_version", True),
    ("schema_version", 1.0),
    ("schema_version", "1"),
    ("datasets", "customers"),
    ("store_name", 5),
    ("postgres_hostname", 10),
    ("git_repo_branch", False),
    ("schedule", 60),
    ("job_resources", {"cpu_request": 2}),
]
OUTSIDE_POLICY = [
    ("namespace_name", "yellow-forensic"),
    ("namespace_name", "kube-system"),
    ("datasurface_docker_image", "evil.example.com/miner:latest"),
    ("datasurface_docker_image", "datasurface/datasurface-fork:v1"),
    ("postgres_credential_secret_name", "postgres-forensic-creds"),
    ("git_credential_secret_name", "cluster-admin-token"),
    ("slack_credential_secret_name", "other-platform-slack"),
    ("source_credential_secret_name", "store9-source-creds"),
    ("platform_name", "YellowForensic"),
]
MALFORMED_JSON = [
    '{"a": 1, "a": 2}',
    "[" * 5000 + "]" * 5000,
    '{"x": ' + "[" * 17 + "]" * 17 + "}",
    '{"postgres_port": ' + "9" * 5000 + "}",
    '{"postgres_port": NaN}',
    '{"postgres_port": Infinity}',
    '"\\u0000"',
    '{"\\u0000": 1}',
    '{"\\ud800": "x"}',
    '{"k": "\\udfff"}',
    "null",
    "[]",
    "",
    "\ufeff{}",
    '{"stream_key": "S"' + " " * 3000 + "}",
]
DB_URLS_WITH_SECRETS = [
    ("postgresql://user:s3cr3tPW@host/db", ["s3cr3tPW"]),
    ("postgresql://user:p@ss:w/rd@localhost:5432/db", ["p@ss:w/rd"]),
    ("postgresql://user:p%40ss%3Aword@host/db", ["p%40ss%3Aword", "p@ss:word"]),
    ("postgresql://user@host/db?password=qwerty123", ["qwerty123"]),
    ("postgresql://user@host/db?sslpassword=keypass99&sslmode=verify-full", ["keypass99"]),
    ("postgresql://user@host/db?sslmode=require&passphrase=pp-secret-1", ["pp-secret-1"]),
    ("https://tok3n-abcdef@github.com/org/repo.git", ["tok3n-abcdef"]),
    ("postgres://u:with space@h/db", ["with space"]),
    ('{"conn_type": "postgres", "host": "h", "login": "u", "password": "connpw1"}', ["connpw1"]),
    ('{"conn_type": "postgres", "password": "connpw2", "extra": {"sslpassword": "extrapw3"}}', ["connpw2", "extrapw3"]),
    ('{"conn_type": "postgres", "extra": "{\\"token\\": \\"extratok4\\"}"}', ["extratok4"]),
]
DRIVER_TEXTS = [
    ('invalid dsn: invalid connection option "x"\nDETAIL: host=h password=drvpw1 dbname=d', ["drvpw1"]),
    ("connection to server failed: password=\"drv pw2\" sslpassword='drvpw3'", ["drv pw2", "drvpw3"]),
    ("Could not parse SQLAlchemy URL from string 'postgresql://u:drvpw4@h/db'", ["drvpw4"]),
    ("(psycopg2.OperationalError) ... (Background on this error) postgresql://u:drvpw5@h:1/db", ["drvpw5"]),
]


# ---- class 2: credentials never shown -------------------------------------------------------


@pytest.mark.parametrize(("url", "secrets"), DB_URLS_WITH_SECRETS)
def test_redact_url_hides_every_form_of_password(url, secrets):
    shown = redact_url(url)
    for secret in secrets:
        assert secret not in shown, shown
    assert "***" in shown


@pytest.mark.parametrize(("message", "secrets"), DRIVER_TEXTS)
def test_redact_text_hides_passwords_quoted_by_drivers(message, secrets):
    shown = redact_text(message)
    for secret in secrets:
        assert secret not in shown, shown


@pytest.mark.parametrize("value", CREDENTIAL_VALUES)
@pytest.mark.parametrize("field", ["git_repo_url", "postgres_hostname", "store_name"])
def test_credential_values_are_refused_by_field_never_echoed(value, field):
    found = problems_of(row("Store1", **{field: value}))
    assert any(p.path == f"$.{field}" and "credential" in p.message for p in found), found
    shown = str(StreamConfigError("Store1", found))
    assert value not in shown and value[:12] not in shown


@pytest.mark.parametrize("value", NOT_CREDENTIALS)
def test_legitimate_values_are_not_taken_for_credentials(value):
    assert credential_kind(value) is None


def test_a_credential_in_a_key_is_reported_without_the_key():
    key = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    found = problems_of(json.dumps(dict(BASE, **{key: 1})), "Store1")
    assert all(key not in str(p) for p in found)
    assert any(p.path == "$" and "credential" in p.message for p in found)


def test_snapshot_spool_and_recorded_files_are_private(db_url, snapshot_dir):
    _table_with(db_url, [("Store1", row("Store1"))])
    load_platform(SLUG, url=db_url, snapshot_dir=snapshot_dir)
    load_platform(SLUG, url="postgresql+psycopg2://u:pw@127.0.0.1:1/x", snapshot_dir=snapshot_dir)  # spools
    files = sorted(p for p in snapshot_dir.iterdir() if p.is_file())
    assert {p.name for p in files} >= {f"{SLUG}.json", f"{SLUG}.recorded.json", f"{SLUG}.reports.jsonl"}
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))
    assert snapshot_dir.stat().st_mode & 0o077 == 0


# ---- class 3: valid JSON, wrong rows --------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), STRICT_TYPES)
def test_no_silent_type_coercion(field, value):
    found = problems_of(row("Store1", **{field: value}))
    assert any(p.path.startswith(f"$.{field}") for p in found), found


@pytest.mark.parametrize("schedule", NEVER_FIRING)
def test_schedules_that_never_fire_are_refused(schedule):
    found = problems_of(row("Store1", schedule=schedule))
    assert [p.path for p in found] == ["$.schedule"] and "never fires" in found[0].message


@pytest.mark.parametrize("raw", MALFORMED_JSON, ids=range(len(MALFORMED_JSON)))
def test_pathological_json_is_a_problem_never_a_crash(raw):
    assert problems_of(raw, "S")


def test_duplicate_keys_are_refused():
    raw = row("Store1")[:-1] + ', "postgres_port": 1}'
    assert any("duplicate key 'postgres_port'" in p.message for p in problems_of(raw, "Store1"))


def test_nul_and_escape_keys_are_shown_visibly():
    found = problems_of(json.dumps(dict(BASE, **{"a\x00b": 1, "\x1b[2J": 2})), "Store1")
    paths = [p.path for p in found]
    assert "$['a\\x00b']" in paths and "$['\\x1b[2J']" in paths
    assert all("\x00" not in p and "\x1b" not in p for p in paths)


def _table_with(db_url: str, rows: list[tuple[str, str]], statuses: dict[str, str] | None = None, policy=POLICY):
    with create_engine(db_url).begin() as conn:
        store.ensure_tables(conn, SLUG)
        if policy is not None:
            write_policy(conn, policy)
        t = platform_tables(SLUG).dsg
        conn.execute(t.delete())
        for key, raw in rows:
            conn.execute(
                t.insert().values(stream_key=key, config_json=raw, status=(statuses or {}).get(key, RowStatus.ACTIVE))
            )


def test_nul_text_never_stops_reports_or_outcomes(db_url, snapshot_dir):
    nul = json.dumps(dict(BASE, stream_key="Nul", store_name="a\x00b", **{"k\x00": 1}))
    surrogate = json.dumps(dict(BASE, stream_key="Sur", **{"\ud800": 2}))
    _table_with(db_url, [("Nul", nul), ("Sur", surrogate), ("Store1", row("Store1"))])
    result = load_platform(SLUG, url=db_url, snapshot_dir=snapshot_dir)
    assert set(result.dags) == {"yellowlive__Store1_ingestion"}
    with create_engine(db_url).connect() as conn:
        builds = {r.stream_key: r for r in conn.execute(select(platform_tables(SLUG).builds))}
        assert conn.execute(select(platform_tables(SLUG).parses)).first() is not None
    assert builds["Nul"].outcome == "error" and "\\x00" in builds["Nul"].error
    assert builds["Sur"].outcome == "error"


UNKNOWN_STATUSES = ["activ", "ACTIVE", "Active", " active", "paused ", "deleted", "", "\u0430ctive"]


@pytest.mark.parametrize("status", UNKNOWN_STATUSES)
def test_unknown_status_is_visible_everywhere(db_url, snapshot_dir, status):
    _table_with(db_url, [("Odd", row("Odd")), ("Store1", row("Store1"))], {"Odd": status})
    result = load_platform(SLUG, url=db_url, snapshot_dir=snapshot_dir)
    odd = next(o for o in result.outcomes if o.stream_key == "Odd")
    assert odd.outcome == Outcome.ERROR and "status" in odd.error
    assert set(result.dags) == {"yellowlive__Store1_ingestion"}
    validate = run_cli("config", "validate", "--db", db_url, "--json", ok=False)
    assert json.loads(validate.output)["problems"][0]["stream_key"] == "Odd"
    errors = json.loads(run_cli("errors", "--db", db_url, "--json").output)
    assert any(e["stream_key"] == "Odd" and e["path"] == "status" for e in errors)
    listed = {r["stream_key"]: r for r in json.loads(run_cli("config", "list", "--db", db_url, "--json").output)}
    assert listed["Odd"]["valid"] is False


# ---- class 3: dag_id collisions -------------------------------------------------------------


def _two_platform_ecosystem(tmp_path: Path, first: str, second: str, store_name: str) -> Path:
    text_ = EXAMPLE_ECOSYSTEM.read_text().replace("name: YellowLive", f"name: {first}")
    text_ = text_.replace("name: YellowForensic", f"name: {second}")
    text_ = text_.replace("- name: AuditLog", f"- name: {store_name}")
    path = tmp_path / "eco.yaml"
    path.write_text(text_)
    return path


def test_bootstrap_check_finds_cross_platform_dag_id_collisions(tmp_path):
    eco = _two_platform_ecosystem(tmp_path, "yl__Store1", "yl", "store1__Payments")
    out = run_cli("bootstrap", eco, "--check", ok=False).output
    assert "yl__store1__Payments_ingestion" in out and "collides" in out and "falls in platform yl__store1" in out


def test_validate_and_loader_never_let_one_row_shadow_another(db_url, snapshot_dir):
    with create_engine(db_url).begin() as conn:
        for slug, key in (("a", "b__c"), ("a__b", "c")):
            store.ensure_tables(conn, slug)
            data = dict(BASE, stream_key=key, platform_name=slug, store_name="S")
            store.write_row(conn, slug, key, json.dumps(data))
    assert dag_id_for("a", "b__c") == dag_id_for("a__b", "c")
    report = json.loads(run_cli("config", "validate", "--db", db_url, "--json", ok=False).output)
    assert {(p["platform"], p["stream_key"]) for p in report["problems"]} == {("a", "b__c"), ("a__b", "c")}
    shadowing = load_platform("a", url=db_url, snapshot_dir=snapshot_dir)
    owner = load_platform("a__b", url=db_url, snapshot_dir=snapshot_dir)
    assert shadowing.dags == {} and "platform a__b" in shadowing.outcomes[0].error
    assert set(owner.dags) == {"a__b__c_ingestion"}


def test_first_come_wins_a_dag_id_within_a_module():
    config = parse_config(row("Store1"))
    dags, outcomes = build_configs({"Store1": config, "Store1b": config}, SLUG)
    assert list(dags) == ["yellowlive__Store1_ingestion"]
    assert (
        outcomes["Store1b"].outcome == Outcome.ERROR and "already taken by stream 'Store1'" in outcomes["Store1b"].error
    )
    _, taken = build_configs({"Store1": config}, SLUG, taken={"yellowlive__Store1_ingestion"})
    assert taken["Store1"].outcome == Outcome.ERROR


# ---- class 4: a row stays inside its platform -----------------------------------------------


@pytest.mark.parametrize(("field", "value"), OUTSIDE_POLICY)
def test_rows_outside_their_platform_are_refused(field, value):
    found = problems_of(row("Store1", **{field: value}), "Store1", POLICY)
    assert [p.path for p in found] == [f"$.{field}"]


def test_example_ecosystem_keeps_its_own_policy(db_url, tmp_path):
    out = json.loads(run_cli("bootstrap", EXAMPLE_ECOSYSTEM, "--db", db_url, "--json").output)
    assert out[0]["platform"] == "yellowlive"
    assert "0 invalid" in run_cli("config", "validate", "--db", db_url).output
    with create_engine(db_url).begin() as conn:
        store.write_row(conn, "yellowlive", "Intruder", row("Intruder", namespace_name="yellow-forensic"))
    report = json.loads(run_cli("config", "validate", "--db", db_url, "--json", ok=False).output)
    assert report["problems"][0]["problems"][0]["path"] == "$.namespace_name"


def test_ecosystem_policy_section_is_enforced(tmp_path):
    text_ = EXAMPLE_ECOSYSTEM.read_text().replace(
        '    default_schedule: "@daily"\n',
        '    default_schedule: "@daily"\n    policy: {image_repositories: ["registry.example.com/datasurface/"]}\n',
    )
    eco = tmp_path / "eco.yaml"
    eco.write_text(text_)
    out = run_cli("bootstrap", eco, "--check", ok=False).output
    assert "$.datasurface_docker_image" in out and "outside platform yellowforensic" in out


@pytest.mark.parametrize(
    "field", ["platform_name", "namespace_name", "datasurface_docker_image", "git_credential_secret_name"]
)
def test_a_credential_pasted_into_a_field_the_policy_quotes_back_stays_hidden(sample_config, field):
    """The policy's problems quote the row's value (found by the property test below): a token
    pasted into one of those fields is hidden there like everywhere else."""
    for value in CREDENTIAL_VALUES:
        with pytest.raises(StreamConfigError) as raised:
            parse_config(json.dumps({**sample_config, field: value}), policy=POLICY)
        assert any(p.path == f"$.{field}" for p in raised.value.problems), raised.value.problems
        assert value not in str(raised.value)
        assert "tok3n" not in str(raised.value) and "glpat-" not in str(raised.value)


# ---- properties -----------------------------------------------------------------------------


@pytest.mark.hostile  # small counts by default; many more with -m hostile
@pytest.mark.parametrize("n", [DEFAULT_EXAMPLES])
def test_property_parse_config_raises_only_stream_config_error(request, n):
    @settings(max_examples=_examples(request, n, HOSTILE_EXAMPLES), deadline=None, database=None)
    @given(hostile_rows() | st.tuples(STREAM_KEYS, st.text(max_size=300)))
    def check(case):
        key, raw = case
        try:
            parse_config(raw, stream_key=key, policy=POLICY)
        except StreamConfigError as exc:
            assert exc.problems
            for value in CREDENTIAL_VALUES:
                assert value not in str(exc)

    check()


@pytest.mark.hostile  # small counts by default; many more with -m hostile
@pytest.mark.parametrize("n", [DEFAULT_EXAMPLES])
def test_property_good_rows_validate_and_build(request, n):
    @settings(max_examples=_examples(request, n, HOSTILE_EXAMPLES), deadline=None, database=None)
    @given(good_rows())
    def check(case):
        key, data = case
        config = parse_config(json.dumps(data), stream_key=key, policy=POLICY)
        dags, outcomes = build_configs({key: config}, SLUG)
        assert list(dags) == [dag_id_for(SLUG, key)] and outcomes[key].outcome == Outcome.OK

    check()


@st.composite
def row_sets(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(good rows, hostile rows, unknown-status rows), keys unique across all three."""
    good = dict(draw(st.lists(good_rows(), max_size=4, unique_by=lambda r: r[0])))
    good = {k: json.dumps(v) for k, v in good.items()}
    bad = dict(draw(st.lists(hostile_rows(), max_size=5, unique_by=lambda r: r[0])))
    bad = {k: v for k, v in bad.items() if k not in good and len(v) <= 2048}
    odd = {k: row(k) for k in draw(st.lists(STREAM_KEYS, max_size=2)) if k not in good and k not in bad}
    return good, bad, odd


def _expected_good(good: dict[str, str], bad: dict[str, str]) -> set[str]:
    """Hostile rows that happen to be valid count as good (e.g. a changed field that is still valid)."""
    fine = set(good)
    for key, raw in bad.items():
        try:
            parse_config(raw, stream_key=key, policy=POLICY)
            fine.add(key)
        except StreamConfigError:
            pass
    return fine


@pytest.mark.hostile  # small counts by default; many more with -m hostile
@pytest.mark.parametrize("n", [DB_EXAMPLES])
def test_property_loader_builds_every_good_row_and_reports_every_bad_one(request, n, db_url, tmp_path):
    counter = iter(range(10**6))

    @settings(
        max_examples=_examples(request, n, HOSTILE_DB_EXAMPLES),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(row_sets())
    def check(sets):
        good, bad, odd = sets
        _table_with(db_url, [*good.items(), *bad.items(), *odd.items()], dict.fromkeys(odd, "actve"))
        snaps = tmp_path / f"s{next(counter)}"
        result = load_platform(SLUG, url=db_url, snapshot_dir=snaps)
        fine = _expected_good(good, bad)
        assert set(result.dags) == {dag_id_for(SLUG, k) for k in fine}
        outcomes = {o.stream_key: o for o in result.outcomes}
        for key in set(bad) - fine | set(odd):
            assert outcomes[key].outcome == Outcome.ERROR, (key, outcomes.get(key))
        with create_engine(db_url).connect() as conn:
            recorded = {r.stream_key: r.outcome for r in conn.execute(select(platform_tables(SLUG).builds))}
        for key in set(bad) - fine | set(odd):
            assert recorded[key] == "error"

    check()


@pytest.mark.hostile  # small counts by default; many more with -m hostile
@pytest.mark.parametrize("n", [CLI_EXAMPLES])
def test_property_read_commands_never_crash(request, n, db_url):
    @settings(
        max_examples=_examples(request, n, HOSTILE_CLI_EXAMPLES),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(row_sets())
    def check(sets):
        good, bad, odd = sets
        _table_with(db_url, [*good.items(), *bad.items(), *odd.items()], dict.fromkeys(odd, "??"))
        listed = json.loads(run_cli("config", "list", "--db", db_url, "--json").output)
        assert {r["stream_key"] for r in listed} == set(good) | set(bad) | set(odd)
        assert json.loads(run_cli("config", "validate", "--db", db_url, "--json", ok=None).output)["checked"] == len(
            listed
        )
        errors = json.loads(run_cli("errors", "--db", db_url, "--json").output)
        invalid = {r["stream_key"] for r in listed if not r["valid"]}
        assert {e["stream_key"] for e in errors} >= invalid
        for key in list(bad)[:2]:
            shown = json.loads(run_cli("config", "show", key, "--db", db_url, "-p", SLUG, "--json").output)
            assert shown["stream_key"] == key

    check()


# ---- the credentials scan over every output -------------------------------------------------

PASSWORD = "Hx7-Pw%40rd%3A99"  # percent-encoded in the URL: p@rd:99 decoded
PASSWORD_FORMS = ("Hx7-Pw%40rd%3A99", "Hx7-Pw@rd:99")
OUTPUTS: list[str] = []


def run_cli(*args, ok: bool | None = True, env=None):
    result = CliRunner().invoke(__import__("yellowtui.cli", fromlist=["main"]).main, [str(a) for a in args], env=env)
    if isinstance(result.exception, Exception) and not isinstance(result.exception, SystemExit):
        raise result.exception
    if ok is not None:
        assert (result.exit_code == 0) is ok, result.output
    OUTPUTS.append(result.output + getattr(result, "stderr", ""))
    return result


def _with_password(url: str) -> str:
    return re.sub(r"://([^:@/]+):?@", rf"://\1:{PASSWORD}@", url, count=1)


def test_no_output_ever_holds_the_test_password(db_url, tmp_path, monkeypatch):
    url = _with_password(db_url)
    assert PASSWORD in url
    dags = tmp_path / "dags"
    snaps = tmp_path / "snaps"
    monkeypatch.setenv("YELLOW_SNAPSHOT_DIR", str(snaps))
    from factory.settings import reset_settings

    reset_settings()
    run_cli("bootstrap", EXAMPLE_ECOSYSTEM, "--db", url, "--dags-folder", dags)
    with create_engine(db_url).begin() as conn:
        store.write_row(conn, "yellowlive", "Bad1", row("Bad1", postgres_port="x"))
    load_platform(SLUG, url=url, snapshot_dir=snaps)
    unreachable = re.sub(r"host=[^&]+", "host=127.0.0.1&port=1", url)
    load_platform(SLUG, url=unreachable, snapshot_dir=snaps)  # falls back to the snapshot: detail recorded
    for args in (
        ("config", "list"),
        ("config", "list", "--json"),
        ("config", "show", "Store1", "-p", SLUG, "--json"),
        ("config", "validate"),
        ("config", "validate", "--json"),
        ("errors",),
        ("errors", "--json"),
        ("parses", "-p", SLUG, "--json"),
        ("config", "export", "-p", SLUG),
    ):
        run_cli(*args, "--db", url, ok=None)
        run_cli(*args, "--db", unreachable, ok=None)
        run_cli(*args, "--db", "postgresql://u:Hx7-Pw@rd:99@127.0.0.1:1/x", ok=None)
    OUTPUTS.append(str(load_platform(SLUG, url=unreachable, snapshot_dir=snaps).to_dict()))
    with create_engine(db_url).connect() as conn:
        for table in ("_parse", "_build"):
            OUTPUTS.extend(str(r) for r in conn.execute(text(f"SELECT * FROM yellowlive_airflow_dsg{table}")))
    for path in [*snaps.rglob("*"), *dags.rglob("*")]:
        if path.is_file():
            OUTPUTS.append(path.read_text())
    assert OUTPUTS
    for output in OUTPUTS:
        for form in (*PASSWORD_FORMS, "Hx7-Pw@rd"):
            assert form not in output, output[:500]


@pytest.mark.airflow
def test_airflow_import_errors_hold_no_password(db_url, tmp_path, monkeypatch, example_ecosystem):
    from factory.operations.provisioning.bootstrap import bootstrap
    from factory.settings import reset_settings
    from tests.airflow_helpers import parse_folder

    dags = tmp_path / "dags"
    bootstrap(example_ecosystem, db_url, dags)
    monkeypatch.setenv("YELLOW_SNAPSHOT_DIR", str(tmp_path / "no-snapshots"))
    monkeypatch.setenv("YELLOW_DB_URL", "postgresql://u:Hx7-Pw@rd:99@127.0.0.1:1/x")
    reset_settings()
    bag = parse_folder(dags)
    assert bag.import_errors  # no database, no snapshot: the file fails, and says why
    for error in bag.import_errors.values():
        assert "Hx7-Pw" not in error and "rd:99" not in error, error


def hostile_case_counts() -> dict[str, int]:
    """How many hostile cases each class tries in the default run and under ``-m hostile``."""
    return {
        "redaction: URLs and connection JSON": len(DB_URLS_WITH_SECRETS),
        "redaction: driver error texts": len(DRIVER_TEXTS),
        "credential values refused (values x fields)": len(CREDENTIAL_VALUES) * 3,
        "legitimate values not flagged": len(NOT_CREDENTIALS),
        "strict types": len(STRICT_TYPES),
        "schedules that never fire": len(NEVER_FIRING),
        "pathological JSON": len(MALFORMED_JSON),
        "unknown statuses": len(UNKNOWN_STATUSES),
        "rows outside their platform": len(OUTSIDE_POLICY),
        "property: parse_config (default / hostile)": DEFAULT_EXAMPLES * 1000 + HOSTILE_EXAMPLES,
        "property: good rows build (default / hostile)": DEFAULT_EXAMPLES * 1000 + HOSTILE_EXAMPLES,
        "property: loader on PostgreSQL, row sets (default / hostile)": DB_EXAMPLES * 1000 + HOSTILE_DB_EXAMPLES,
        "property: read commands, row sets (default / hostile)": CLI_EXAMPLES * 1000 + HOSTILE_CLI_EXAMPLES,
    }


if __name__ == "__main__":  # pragma: no cover
    for name, count in hostile_case_counts().items():
        shown = f"{count // 1000} / {count % 1000}" if count >= 1000 else str(count)
        print(f"{name}: {shown}")
    _ = os
