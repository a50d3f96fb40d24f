"""Test data shared by several test modules (fixtures live in conftest.py)."""

from __future__ import annotations

#: A valid config_json payload with every field of the seed's example.
SAMPLE_CONFIG: dict = {
    "schema_version": 1,
    "stream_key": "Store1",
    "single_dataset": False,
    "datasets": ["customers", "addresses"],
    "store_name": "Store1",
    "ingestion_type": "sql_source",
    "namespace_name": "yellow-live",
    "platform_name": "YellowLive",
    "original_platform_name": "YellowLive",
    "postgres_hostname": "pg-data.yellow.svc",
    "postgres_database": "datasurface_merge",
    "postgres_port": 5432,
    "postgres_credential_secret_name": "postgres-demo-creds",
    "git_credential_secret_name": "git-demo-creds",
    "slack_credential_secret_name": "slack-demo-creds",
    "datasurface_docker_image": "datasurface/datasurface:v1.1.0",
    "git_repo_url": "https://github.com/yellowdataplatform/ecosystem-model",
    "git_repo_branch": "main",
    "source_credential_secret_name": "store1-source-creds",
    "schedule": "@hourly",
}
