"""Rows as DataSurface itself writes them into ``{platform}_airflow_dsg``, read into the model.

A platform that DataSurface deployed holds rows in DataSurface's own JSON, not the factory's.
:func:`factory.models.parse_config` hands such a row (one holding any of :data:`MARKERS`) to
:func:`adopt`, which renames its keys to the model's, checks the keys that repeat what another
says, and carries everything else unused, so the row builds the same DAG whichever form it is
in. Rows in the factory's own form never get here: the check is one set lookup per row.

Facts, from DataSurface's public repository (billynewport/datasurface, Business Source
License: read, not copied):

- ``src/datasurface/platforms/yellow/yellow_dp.py``, ``populateDAGConfigurations``: each row is
  ``json.dumps`` of the platform-wide context updated with the stream's own keys, status
  ``active``; the whole table is deleted and written again each time DataSurface runs. Stream
  keys: ``stream_key``, ``priority``, ``single_dataset``, ``datasets``, ``store_name``,
  ``dataset_name`` (single-dataset streams), ``ingestion_type`` (``sql_source`` or ``kafka``),
  ``schedule_string``, ``job_limits``, and ``kafka_connect_credential_secret_name`` or
  ``source_credential_secret_name``. Platform-wide: ``namespace_name``, ``platform_name`` (its
  Kubernetes name), ``original_platform_name``, ``ecosystem_name``, ``ecosystem_k8s_name``,
  ``merge_db_driver``, ``merge_db_database``, ``merge_db_credential_secret_name``,
  ``git_credential_secret_name``, ``git_credential_name``, ``datasurface_docker_image``,
  ``git_repo_url`` (``https://github.com/`` + ``git_repo_name``), ``git_repo_branch``,
  ``git_repo_name`` (``OWNER/NAME``), ``git_repo_owner``, ``git_repo_repo_name``,
  ``pv_storage_class``, ``merge_db_hostname``, ``merge_db_port``, optional ``merge_db_query``.
- the same file, ``getScheduleStringForTrigger``: a cron expression, or the text ``"None"``
  for an externally triggered store; ``K8sIngestionHint.to_k8s_json``: ``job_limits`` holds
  ``requested_memory``, ``limits_memory``, ``requested_cpu``, ``limits_cpu`` as Kubernetes
  quantities; ``getAirflowDAGTable``: ``config_json`` is VARCHAR(2048), as in the seed.
- ``assembly.py``, ``K8sAssemblyFactory.createYAMLContext`` and
  ``GitCacheConfig.mergeToYAMLContext``: ``psp_name``, ``psp_k8s_name`` and the ``git_cache_*``
  keys; ``aws_assembly.py`` adds ``aws_account_id``, ``storage_class``, ``use_aws_logging``,
  ``use_aws_networking``.
- ``templates/jinja/airflow2X/infrastructure_dag.py.j2``: DataSurface's own DAG passes
  ``git_repo_owner`` / ``git_repo_repo_name`` as ``--git-repo-owner`` / ``--git-repo-name`` and
  ``dataset_name``, when present, as ``--dataset-name``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from factory.errors import ConfigProblem

#: DataSurface's key -> the model's field it is.
RENAMED: dict[str, str] = {
    "merge_db_hostname": "postgres_hostname",
    "merge_db_port": "postgres_port",
    "merge_db_database": "postgres_database",
    "merge_db_credential_secret_name": "postgres_credential_secret_name",
    "schedule_string": "schedule",
    "job_limits": "job_resources",
}
#: ``job_limits``' keys -> ``job_resources``' fields.
LIMITS: dict[str, str] = {
    "requested_cpu": "cpu_request",
    "requested_memory": "memory_request",
    "limits_cpu": "cpu_limit",
    "limits_memory": "memory_limit",
}
#: Keys that repeat what another key says: checked against it, then dropped.
CHECKED: dict[str, str] = {
    "dataset_name": "must be the stream's one dataset (single-dataset streams only)",
    "git_repo_owner": "must be OWNER of git_repo_url (https://github.com/OWNER/NAME)",
    "git_repo_repo_name": "must be NAME of git_repo_url",
    "git_repo_name": "must be OWNER/NAME of git_repo_url; gives git_repo_url when the row has none",
}
#: DataSurface's platform-wide keys that the factory carries unused, and why it needs none of them.
CARRIED: dict[str, str] = {
    "ecosystem_name": "the ecosystem's name; the job reads its model from git",
    "ecosystem_k8s_name": "the ecosystem's Kubernetes name, for DataSurface's volume claims",
    "merge_db_driver": "the merge database's driver; the job reads it from the model",
    "merge_db_query": "the merge database driver's options; the job reads them from the model",
    "psp_name": "the platform service provider's name",
    "psp_k8s_name": "the platform service provider's Kubernetes name",
    "pv_storage_class": "the git cache volume's storage class (infrastructure)",
    "git_cache_enabled": "the platform's job settings decide the git cache (job: git_cache_claim)",
    "git_clone_cache_pvc": "the platform's job settings name the git cache claim (job: git_cache_claim)",
    "git_cache_local_path": "the platform's job settings place the model (job: git_repo_path)",
    "git_cache_max_age_minutes": "the platform's job settings (job: max_cache_age_minutes)",
    "git_clone_cache_pv": "the git cache volume (infrastructure)",
    "git_cache_access_mode": "the git cache volume (infrastructure)",
    "git_cache_storage_size": "the git cache volume (infrastructure)",
    "aws_account_id": "DataSurface's AWS assembly (infrastructure)",
    "storage_class": "DataSurface's AWS assembly (infrastructure)",
    "use_aws_logging": "DataSurface's AWS assembly (infrastructure)",
    "use_aws_networking": "DataSurface's AWS assembly (infrastructure)",
}
#: Keys only DataSurface's rows hold: a row with any of them is read through :func:`adopt`.
MARKERS = frozenset(RENAMED) | frozenset(CHECKED)
#: DataSurface's ``schedule_string`` for a store that is triggered from outside (no schedule).
MANUAL_SCHEDULE = "None"


def looks_like(data: dict[str, Any]) -> bool:
    """True for a row in DataSurface's form; one set operation, cheap enough for every parse."""
    return not MARKERS.isdisjoint(data)


@dataclass
class Adopted:
    """A DataSurface row as the model's fields, its contradictions, and the keys it carries."""

    data: dict[str, Any]
    problems: list[ConfigProblem] = field(default_factory=list)
    #: Keys kept in the row but unused by the factory (``job_limits.x`` for one inside job_limits).
    carried: list[str] = field(default_factory=list)
    #: The model's field -> the row's key it came from, for problems at the row's own paths.
    sources: dict[str, str] = field(default_factory=dict)

    def model_locs(self, locs: Iterable[tuple[Any, ...]]) -> frozenset[tuple[Any, ...]]:
        """Row locations as the model's (a credential found in ``merge_db_*`` is skipped in ``postgres_*``)."""
        to_model = {source: name for name, source in self.sources.items()}
        moved = set()
        for loc in locs:
            if not loc or loc[0] not in to_model:
                moved.add(loc)
                continue
            rest = loc[1:]
            if loc[0] == "job_limits" and rest and rest[0] in LIMITS:
                rest = (LIMITS[rest[0]], *rest[1:])
            moved.add((to_model[loc[0]], *rest))
        return frozenset(moved)

    def located(self, problems: Iterable[ConfigProblem]) -> list[ConfigProblem]:
        """The model's problems at the row's own paths (``$.postgres_port`` -> ``$.merge_db_port``)."""
        paths = {f"$.{name}": f"$.{source}" for name, source in self.sources.items()}
        if "job_resources" in self.sources:
            paths.update({f"$.job_resources.{name}": f"$.job_limits.{key}" for key, name in LIMITS.items()})
        longest_first = sorted(paths, key=len, reverse=True)
        out = []
        for problem in problems:
            path = problem.path
            for model_path in longest_first:
                if path == model_path or path.startswith((f"{model_path}.", f"{model_path}[")):
                    path = paths[model_path] + path[len(model_path) :]
                    break
            out.append(ConfigProblem(path, problem.message))
        return out


def adopt(data: dict[str, Any]) -> Adopted:
    """DataSurface's row ``data`` as the model's fields; nothing is raised, problems are listed."""
    from factory.models import StreamConfig

    fields = StreamConfig.model_fields
    out = Adopted({})
    for key, value in data.items():
        if key in RENAMED:
            _rename(out, data, key, value)
        elif key in fields:
            if key not in out.data:  # a renamed key may have put it there already (and checked both)
                out.data[key] = value
        elif key not in CHECKED:
            out.carried.append(key)
    _check_repository(out, data)
    _check_dataset(out, data)
    return out


def _rename(out: Adopted, data: dict[str, Any], key: str, value: Any) -> None:
    name = RENAMED[key]
    if key == "schedule_string":
        value = None if value is None or value == MANUAL_SCHEDULE else value
    elif key == "job_limits" and isinstance(value, dict):
        out.carried += [f"job_limits.{k}" for k in value if k not in LIMITS]
        value = {LIMITS[k]: v for k, v in value.items() if k in LIMITS}
    if name in data and data[name] != value:
        out.problems.append(ConfigProblem(f"$.{key}", f"disagrees with $.{name}; a row says it once"))
    out.data[name] = value
    out.sources[name] = key


def _check_repository(out: Adopted, data: dict[str, Any]) -> None:
    """``git_repo_owner``, ``git_repo_repo_name`` and ``git_repo_name`` against ``git_repo_url``,
    or, with no URL in the row, the URL made from them as DataSurface makes it."""
    from factory.models import GITHUB_URL_RE

    given = {k: data[k] for k in ("git_repo_owner", "git_repo_repo_name", "git_repo_name") if k in data}
    for key, value in given.items():
        if not isinstance(value, str):
            out.problems.append(ConfigProblem(f"$.{key}", "must be a string"))
    if "git_repo_url" not in data:
        full = given.get("git_repo_name")
        owner, name = given.get("git_repo_owner"), given.get("git_repo_repo_name")
        if isinstance(full, str):
            out.data["git_repo_url"], out.sources["git_repo_url"] = f"https://github.com/{full}", "git_repo_name"
        elif isinstance(owner, str) and isinstance(name, str):
            out.data["git_repo_url"], out.sources["git_repo_url"] = (
                f"https://github.com/{owner}/{name}",
                "git_repo_owner",
            )
        return
    url = data["git_repo_url"]
    match = GITHUB_URL_RE.fullmatch(url) if isinstance(url, str) else None
    if match is None:
        return  # the model reports the URL itself
    owner, name = match.group(1), match.group(2)
    expected = {"git_repo_owner": owner, "git_repo_repo_name": name, "git_repo_name": f"{owner}/{name}"}
    for key, value in given.items():
        if isinstance(value, str) and value != expected[key]:
            out.problems.append(
                ConfigProblem(f"$.{key}", f"does not match $.git_repo_url, which says {expected[key]!r}")
            )


def _check_dataset(out: Adopted, data: dict[str, Any]) -> None:
    """``dataset_name``: DataSurface's DAG passes it as ``--dataset-name``, so it must be the one
    dataset of a single-dataset stream (the factory passes that one itself)."""
    if "dataset_name" not in data:
        return
    value, datasets = data["dataset_name"], data.get("datasets")
    if not isinstance(value, str):
        out.problems.append(ConfigProblem("$.dataset_name", "must be a string"))
    elif isinstance(datasets, list) and value not in datasets:
        out.problems.append(ConfigProblem("$.dataset_name", "is not one of $.datasets"))
    elif data.get("single_dataset") is False:
        out.problems.append(
            ConfigProblem(
                "$.dataset_name",
                "names one dataset of a multi-dataset stream: DataSurface's job would ingest only that "
                "one; set single_dataset, or drop dataset_name",
            )
        )


# ---- what `yellowtui config validate` says about such a row (never at parse time) ------------


def read_form(raw: str | dict[str, Any]) -> dict[str, Any] | None:
    """The row's JSON when it is in DataSurface's form, else None (cheap text test first)."""
    if isinstance(raw, str):
        if not any(f'"{marker}"' in raw for marker in MARKERS):
            return None
        from factory.models import MAX_JSON_DEPTH, json_depth_over

        if json_depth_over(raw, MAX_JSON_DEPTH) is not None:
            return None
        import json

        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return None
    else:
        data = raw
    return data if isinstance(data, dict) and looks_like(data) else None


def carried(raw: str | dict[str, Any]) -> list[str]:
    """The keys a DataSurface row carries unused (``job_limits.x`` inside job_limits); [] for others."""
    data = read_form(raw)
    return adopt(data).carried if data is not None else []


def warnings_for(keys: Iterable[str]) -> list[ConfigProblem]:
    """One warning per carried key, at its path, saying why the factory needs none of it."""
    from factory.models import json_path

    found = []
    for key in keys:
        loc = ("job_limits", key.removeprefix("job_limits.")) if key.startswith("job_limits.") else (key,)
        why = CARRIED.get(key, "not a key the factory or DataSurface's rows are known to use")
        found.append(ConfigProblem(json_path(loc), f"carried unused: {why}"))
    return found
