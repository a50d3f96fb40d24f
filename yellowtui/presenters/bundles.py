"""What an operator must tell Airflow when a platform's files are spread over DAG bundles."""

from __future__ import annotations

from factory.bundles import BundleConfig


def bundle_instructions(config: BundleConfig) -> str:
    """The ``dag_bundle_config_list`` value and one ``airflow dag-processor -B`` per bundle. Every
    Airflow component (scheduler, workers, API server, each DAG processor) needs the same list, and
    workers every bundle's folder: a task runs from its DAG's bundle."""
    lines = [
        f"Airflow: {config.bundles} DAG bundles. On every component (scheduler, workers, API server, DAG processors):",
        "  [dag_processor]",
        f"  dag_bundle_config_list = {config.config_value()}",
        "Then one DAG processor per bundle (each may run on its own machine, with the bundle's folder):",
        *(f"  {command}" for command in config.commands()),
    ]
    return "\n".join(lines)
