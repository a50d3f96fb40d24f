"""A platform's factory files spread over DAG bundles, each parsed by its own DAG processor.

One DAG processor's manager writes every parsed DAG to Airflow's metadata database in its one
process (docs/benchmarks.md), so past a few thousand streams more files stop helping and more
DAG processors must. Airflow 3 runs one DAG processor per set of bundles: the bundles are named
in ``[dag_processor] dag_bundle_config_list`` and ``airflow dag-processor -B NAME`` parses only
bundle NAME (``airflow/cli/cli_config.py``, ``ARG_BUNDLE_NAME``; ``DagFileProcessorManager``'s
``bundle_names_to_parse`` in ``airflow/dag_processing/manager.py``).

Bundle 0 is Airflow's default bundle, ``dags-folder`` (the default of ``dag_bundle_config_list``
in ``airflow/config_templates/config.yml``: a ``LocalDagBundle`` whose path defaults to
``[core] dags_folder``, ``airflow/dag_processing/bundles/local.py``), so a platform in one bundle
is exactly as before. Bundle ``j`` > 0 is ``yellow-{j}``, a ``LocalDagBundle`` over the folder
``<dags folder>.yellow-bundles/yellow-{j}``, beside the dags folder and never inside it: Airflow
walks a bundle's folder recursively (``find_path_from_directory`` in
``airflow/_shared/module_loading/file_discovery.py``), so a bundle inside the dags folder would
be parsed twice. The ``yellow-{j}`` bundles are shared by every platform: B bundles need B DAG
processors whatever the number of platforms.

How Airflow treats a DAG whose file moved between bundles (what the hand-over in
:mod:`factory.split` relies on):

- each parse writes the DAG's ``bundle_name`` and ``relative_fileloc`` to its ``dag`` row
  (``DagModelOperation.update_dags`` in ``airflow/dag_processing/collection.py``): the last
  parse that defined a dag_id owns it, whichever bundle it came from;
- a DAG is made stale only by the DAG processor that parses the bundle and file its row names
  (``deactivate_stale_dags`` matches ``(bundle_name, relative_fileloc)`` against that
  processor's own files; ``deactivate_deleted_dags`` acts on one bundle's removed files): once
  the new bundle has claimed a DAG, the old bundle's processor never makes it stale;
- a dag_id written from a bundle other than its latest version's gets a new DAG version, or its
  latest version rewritten when no task ran on it (``SerializedDagModel.write_dag`` in
  ``airflow/models/serialized_dag.py``): a dag_id defined in two bundles at once would flip
  between them at every parse, each flip a version. The hand-over moves it once.
- ``airflow dag-processor -B NAME`` refuses a bundle that is not configured
  (``validate_dag_bundle_arg`` in ``airflow/utils/cli.py``), and a processor started with ``-B``
  never deactivates bundles it does not parse (``sync_bundles_to_db(deactivate_missing=False)``
  in ``airflow/dag_processing/bundles/manager.py``); a DAG whose bundle is inactive is stale.
  So a bundle leaves the configuration only after its files are gone and its processor stopped.
- a task runs from its DAG version's bundle (``DagBundlesManager().get_bundle`` in
  ``airflow/sdk/execution_time/task_runner.py``): every worker needs the same
  ``dag_bundle_config_list`` and every bundle folder.
- a ``LocalDagBundle`` looks for new files every ``[dag_processor] refresh_interval`` (300 s;
  ``BaseDagBundle.refresh_interval`` in ``airflow/dag_processing/bundles/base.py``): a file
  copied into a bundle is parsed within that time, not at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory.split import Layout, Place, split_file_name, split_index

#: Airflow's own default bundle: the dags folder (config.yml, ``dag_bundle_config_list``).
DEFAULT_BUNDLE = "dags-folder"
BUNDLE_PREFIX = "yellow-"
LOCAL_BUNDLE_CLASSPATH = "airflow.dag_processing.bundles.local.LocalDagBundle"
#: The most bundles one platform may use (a sanity bound: one DAG processor each).
MAX_BUNDLES = 64


def bundle_name(index: int) -> str:
    """``dags-folder`` for bundle 0, ``yellow-{j}`` for bundle ``j``."""
    return DEFAULT_BUNDLE if index == 0 else f"{BUNDLE_PREFIX}{index}"


def bundle_index(name: str | None) -> int | None:
    """Which of our bundles ``name`` is (``None``: Airflow's own name for a DAG before bundles)."""
    if name is None or name == DEFAULT_BUNDLE:
        return 0
    suffix = name.removeprefix(BUNDLE_PREFIX)
    if name.startswith(BUNDLE_PREFIX) and suffix.isdigit() and bundle_name(int(suffix)) == name:
        return int(suffix)
    return None


def bundles_root(dags_folder: Path) -> Path:
    """``<dags folder>.yellow-bundles``, beside the dags folder (see the module docstring)."""
    return dags_folder.parent / f"{dags_folder.name}.yellow-bundles"


def bundle_folder(dags_folder: Path, index: int) -> Path:
    return dags_folder if index == 0 else bundles_root(dags_folder) / bundle_name(index)


def file_path(dags_folder: Path, place: Place, platform: str) -> Path:
    """Where the copy of a factory file at ``place`` (file, bundle) lives."""
    index, bundle = place
    return bundle_folder(dags_folder, bundle) / split_file_name(platform, index)


def shown_name(place: Place, platform: str) -> str:
    """A copy's name as reports show it: the file name, after ``yellow-{j}/`` outside bundle 0."""
    index, bundle = place
    name = split_file_name(platform, index)
    return name if bundle == 0 else f"{bundle_name(bundle)}/{name}"


def placed_files(dags_folder: Path, platform: str) -> dict[Place, Path]:
    """Every copy of the platform's factory files in the dags folder and the bundle folders."""
    found: dict[Place, Path] = {}
    folders = [(0, dags_folder)]
    root = bundles_root(dags_folder)
    if root.is_dir():
        for child in root.iterdir():
            index = bundle_index(child.name)
            if index and child.is_dir():
                folders.append((index, child))
    for bundle, folder in folders:
        for path in folder.glob("*_factory_dag*.py"):
            index = split_index(platform, path.name)
            if index is not None:
                found[(index, bundle)] = path
    return found


def surplus_copies(dags_folder: Path, platform: str, layout: Layout) -> tuple[list[Path], list[Path]]:
    """Copies at a place the layout no longer uses (a file beyond K, or a file's old bundle):
    (removable now, kept until the hand-over is done: removing one earlier makes its DAGs stale)."""
    homes = set(layout.homes())
    beyond = [path for place, path in sorted(placed_files(dags_folder, platform).items()) if place not in homes]
    return (beyond, []) if layout.settled else ([], beyond)


def bundles_in_use(dags_folder: Path, platforms: list[str], layouts: list[Layout]) -> int:
    """How many bundles must stay configured: the widest layout, and any folder that still holds a copy."""
    widest = max([1, *(max(layout.bundles, layout.previous_bundles) for layout in layouts)])
    for platform in platforms:
        for _, bundle in placed_files(dags_folder, platform):
            widest = max(widest, bundle + 1)
    return widest


@dataclass(frozen=True)
class BundleConfig:
    """What Airflow needs to parse ``bundles`` bundles: the ``dag_bundle_config_list`` entries and
    one ``airflow dag-processor -B NAME`` per bundle (each on its own machine if wanted)."""

    dags_folder: Path
    bundles: int

    def entries(self) -> list[dict[str, Any]]:
        """Bundle 0 exactly as Airflow's default (its path is ``[core] dags_folder``); the others by path.
        Setting ``dag_bundle_config_list`` replaces Airflow's default list, so ``dags-folder`` is in it."""
        found: list[dict[str, Any]] = [{"name": DEFAULT_BUNDLE, "classpath": LOCAL_BUNDLE_CLASSPATH, "kwargs": {}}]
        for index in range(1, self.bundles):
            path = str(bundle_folder(self.dags_folder, index).resolve())
            found.append({"name": bundle_name(index), "classpath": LOCAL_BUNDLE_CLASSPATH, "kwargs": {"path": path}})
        return found

    def config_value(self) -> str:
        """The value of ``[dag_processor] dag_bundle_config_list`` (or ``AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST``)."""
        return json.dumps(self.entries())

    def commands(self) -> list[str]:
        return [f"airflow dag-processor -B {bundle_name(index)}" for index in range(self.bundles)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundles": self.bundles,
            "dag_bundle_config_list": self.entries(),
            "environment": {"AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": self.config_value()},
            "dag_processors": self.commands(),
        }
