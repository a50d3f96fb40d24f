"""Conformance with DataSurface's job: every stream the examples and the synthetic ecosystems
make passes arguments its parser accepts (simulators.job's parser mirrors jobs.py's argparse),
with the credentials under the names the job reads; the result line is parsed strictly; a
repository URL that is not https://github.com/OWNER/NAME is refused where it is written."""

from __future__ import annotations

import pytest

from factory.errors import StreamConfigError
from factory.job_contract import JobResultError, JobSettings, SecretKeys, result_code
from factory.models import parse_config
from factory.operations.provisioning.ecosystem import load_ecosystem, platform_streams
from factory.spec import dag_spec
from simulators.ecosystem import generate_ecosystem
from simulators.job import parser
from tests.samples import SAMPLE_CONFIG


def _every_stream():
    for eco in (load_ecosystem("yellowtui/examples/ecosystem.yaml"), generate_ecosystem(2, 60, seed=3)):
        for platform in eco.platforms:
            for config in platform_streams(platform)[0]:
                yield platform, config


def test_every_example_stream_passes_arguments_the_real_parser_accepts():
    seen = 0
    for platform, config in _every_stream():
        spec = dag_spec(config, platform.name, platform.job)
        args = parser().parse_args(spec.arguments)  # SystemExit(2) on anything the job would refuse
        assert args.platform_name == config.original_platform_name and args.store_name == config.store_name
        assert f"https://github.com/{args.git_repo_owner}/{args.git_repo_name}" == config.git_repo_url
        assert args.git_repo_branch == config.git_repo_branch and args.operation == "snapshot-merge"
        assert args.dataset_name == (config.datasets[0] if config.single_dataset else None)
        variables = {s.env_var for s in spec.secrets}
        assert f"{args.git_platform_repo_credential_name}_TOKEN" in variables
        merge = config.postgres_credential_secret_name.replace("-", "_")
        assert {f"{merge}_USER", f"{merge}_PASSWORD"} <= variables
        assert spec.env_vars == {
            "DATASURFACE_PLATFORM_NAME": config.original_platform_name,
            "DATASURFACE_NAMESPACE": config.namespace_name,
        }
        seen += 1
    assert seen > 60


def test_which_credentials_each_ingestion_type_passes():
    """As DataSurface's DAGs do: a SQL source's credential when it differs from the merge one,
    Kafka Connect's (api_key / api_secret) for kafka streams, never both."""
    sql = parse_config({**SAMPLE_CONFIG, "source_credential_secret_name": "source"})
    assert {"source_USER", "source_PASSWORD"} <= {s.env_var for s in dag_spec(sql, "yellowlive").secrets}
    same = parse_config(
        {**SAMPLE_CONFIG, "source_credential_secret_name": SAMPLE_CONFIG["postgres_credential_secret_name"]}
    )
    assert len([s for s in dag_spec(same, "yellowlive").secrets if s.env_var.endswith("_USER")]) == 1
    kafka = parse_config(
        {**SAMPLE_CONFIG, "ingestion_type": "kafka", "kafka_connect_credential_secret_name": "connect"}
    )
    kafka_secrets = {(s.env_var, s.secret_key) for s in dag_spec(kafka, "yellowlive").secrets}
    assert {("connect_API_KEY", "api_key"), ("connect_API_SECRET", "api_secret")} <= kafka_secrets
    assert not any(v.startswith("store1_source") for v, _ in kafka_secrets)


def test_secret_key_names_follow_the_platform_generation():
    config = parse_config(dict(SAMPLE_CONFIG))
    secret = config.postgres_credential_secret_name
    prefixed = {s.env_var: s.secret_key for s in dag_spec(config, "yellowlive").secrets}
    plain = {
        s.env_var: s.secret_key
        for s in dag_spec(config, "yellowlive", JobSettings(secret_keys=SecretKeys.PLAIN)).secrets
    }
    variable = secret.replace("-", "_")
    assert prefixed[f"{variable}_USER"] == f"{secret}_USER" and plain[f"{variable}_USER"] == "username"
    assert prefixed[f"{variable}_PASSWORD"] == f"{secret}_PASSWORD" and plain[f"{variable}_PASSWORD"] == "password"


def test_git_cache_settings_reach_the_arguments_and_the_pod():
    config = parse_config(dict(SAMPLE_CONFIG))
    job = JobSettings(git_repo_path="/cache/git", git_cache_claim="git-cache", max_cache_age_minutes=10)
    spec = dag_spec(config, "yellowlive", job)
    args = parser().parse_args(spec.arguments)
    assert (args.git_repo_path, args.max_cache_age_minutes, args.use_git_cache) == ("/cache/git", 10, True)
    assert spec.volumes == [{"name": "git-model-cache", "claim_name": "git-cache", "mount_path": "/cache/git"}]
    with pytest.raises(ValueError, match="absolute path"):
        JobSettings(git_repo_path="relative/../path")


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/owner/name.git/extra",
        "git@github.com:owner/name.git",
        "https://gitlab.com/owner/name",
        "https://github.com/owner",
        "http://github.com/owner/name",
    ],
)
def test_a_repository_url_datasurface_cannot_split_is_refused_at_its_path(url):
    with pytest.raises(StreamConfigError) as caught:
        parse_config({**SAMPLE_CONFIG, "git_repo_url": url})
    (problem,) = caught.value.problems
    assert problem.path == "$.git_repo_url" and "https://github.com/OWNER/NAME" in problem.message


def test_the_seed_plans_ingestion_type_is_read_as_datasurfaces():
    assert parse_config({**SAMPLE_CONFIG, "ingestion_type": "sql_snapshot"}).ingestion_type == "sql_source"
    with pytest.raises(StreamConfigError, match="ingestion_type"):
        parse_config({**SAMPLE_CONFIG, "ingestion_type": "cdc"})


@pytest.mark.parametrize(
    ("output", "code"),
    [
        ("DATASURFACE_RESULT_CODE=0\n", 0),
        ("log\nDATASURFACE_RESULT_CODE=1\r\n", 1),
        ("2026-12-03T10:00:00Z stdout F DATASURFACE_RESULT_CODE=-1", -1),
        ("DATASURFACE_RESULT_CODE=1\nDATASURFACE_RESULT_CODE=1\n", 1),
    ],
)
def test_the_result_line(output, code):
    assert result_code(output) == code


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", "printed no DATASURFACE_RESULT_CODE=<n> line"),
        ("MY_DATASURFACE_RESULT_CODE=1\nDATASURFACE_RESULT_CODE=one\n", "printed no"),
        ("DATASURFACE_RESULT_CODE=1\nDATASURFACE_RESULT_CODE=0\n", r"different codes \(1, 0\)"),
    ],
)
def test_no_line_or_two_different_lines_are_errors_that_say_so(output, message):
    with pytest.raises(JobResultError, match=message):
        result_code(output)
