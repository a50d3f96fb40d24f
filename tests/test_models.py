"""The config model: what it accepts, and how it says what is wrong."""

from __future__ import annotations

import json

import pytest

from factory.errors import StreamConfigError
from factory.models import MAX_CONFIG_CHARS, json_schema, parse_config


def problems(raw, key="Store1") -> dict[str, str]:
    with pytest.raises(StreamConfigError) as info:
        parse_config(raw if isinstance(raw, str) else json.dumps(raw), stream_key=key)
    assert info.value.stream_key == key
    assert f"stream {key!r}" in str(info.value)
    return {p.path: p.message for p in info.value.problems}


def test_seed_example_is_valid_and_round_trips(sample_config):
    config = parse_config(json.dumps(sample_config), stream_key="Store1")
    assert config.datasets == ["customers", "addresses"]
    assert parse_config(config.to_json(), stream_key="Store1") == config
    assert len(config.to_json()) <= MAX_CONFIG_CHARS


def test_unknown_field_suggests_the_near_miss(sample_config):
    sample_config["schedul"] = "@daily"
    assert problems(sample_config) == {"$.schedul": "unknown field; did you mean 'schedule'?"}


def test_every_problem_is_reported_at_its_json_path(sample_config):
    sample_config.update(
        postgres_port=70000,
        namespace_name="Yellow_Live",
        datasurface_docker_image="not an image!",
        schedule="61 * * * *",
        datasets=["customers", "bad name"],
        single_dataset="maybe",
        postgres_credential_secret_name="Secret_With_Caps",
    )
    found = problems(sample_config)
    assert set(found) == {
        "$.postgres_port",
        "$.namespace_name",
        "$.datasurface_docker_image",
        "$.schedule",
        "$.datasets[1]",
        "$.single_dataset",
        "$.postgres_credential_secret_name",
    }
    assert "65535" in found["$.postgres_port"]
    assert "Kubernetes namespace" in found["$.namespace_name"]
    assert "cron" in found["$.schedule"]


@pytest.mark.parametrize("port", [0, -1, 65536, 70000])
def test_port_outside_range_is_refused(sample_config, port):
    sample_config["postgres_port"] = port
    assert "$.postgres_port" in problems(sample_config)


@pytest.mark.parametrize("schedule", ["@hourly", "*/5 * * * *", "0 3 * * 1-5", None])
def test_schedules_accepted(sample_config, schedule):
    sample_config["schedule"] = schedule
    assert parse_config(sample_config).schedule == schedule


@pytest.mark.parametrize("schedule", ["@sometimes", "* * *", "0 25 * * *", "every day"])
def test_invalid_schedules_refused(sample_config, schedule):
    sample_config["schedule"] = schedule
    assert "$.schedule" in problems(sample_config)


@pytest.mark.parametrize(
    "image",
    ["datasurface/datasurface:v1.1.0", "registry.local:5000/team/job:2", "busybox", "ghcr.io/a/b@sha256:" + "a" * 64],
)
def test_image_references_accepted(sample_config, image):
    sample_config["datasurface_docker_image"] = image
    assert parse_config(sample_config).datasurface_docker_image == image


def test_oversize_config_names_its_size_and_largest_field(sample_config):
    sample_config["datasets"] = [f"dataset_number_{i:04d}" for i in range(120)]
    message = problems(sample_config)["$"]
    assert "over the 2048" in message
    assert "largest field is 'datasets'" in message
    size = int(message.split("serialized config is ")[1].split(" ")[0])
    assert size > MAX_CONFIG_CHARS


def test_row_key_must_match_json_key(sample_config):
    assert problems(sample_config, key="Store9") == {"$.stream_key": "is 'Store1' but the row's key is 'Store9'"}


def test_not_json_and_not_object():
    assert "not valid JSON" in problems("{nope", key="S")["$"]
    assert "must be a JSON object" in problems("[1, 2]", key="S")["$"]


def test_missing_fields_are_named(sample_config):
    del sample_config["datasets"], sample_config["namespace_name"]
    assert problems(sample_config) == {"$.datasets": "field is missing", "$.namespace_name": "field is missing"}


def test_single_dataset_needs_exactly_one(sample_config):
    sample_config["single_dataset"] = True
    assert "2 datasets" in problems(sample_config)["$"]


def test_json_schema_describes_every_field(sample_config):
    schema = json_schema()
    assert set(sample_config) <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    assert "job_resources" in schema["properties"]
