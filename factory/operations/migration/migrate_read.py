"""A static ingestion DAG's job, read back into a stream config: ours, and DataSurface's own.

Two generations of static file are read, both loaded by Airflow's ``DagBag`` (Airflow 3.3 still
imports DataSurface's Airflow 2 paths, ``from airflow import DAG`` and ``airflow.operators.*``,
through its deprecated aliases, so nothing is parsed by hand and nothing is executed otherwise):

- ``yellow``: rendered by ``bootstrap --static`` from our ``ingestion_stream_dag.py.j2``; tags
  ``['yellow', platform, ingestion_type]``.
- ``datasurface-2025-07``: rendered by DataSurface's ``ingestion_stream_dag.py.j2`` in July 2025
  (billynewport/datasurface, commits db4c68f and c7cdb5c of 2025-07-17/18), one file per stream;
  tags ``['datasurface', 'ingestion', platform, stream]``, ``DATASURFACE_PLATFORM_NAME`` holding
  the dag_id's platform name, secret keys ``username`` / ``password``, ``@hourly``.

Everything is read from the operator's fields, never from the file's text. What a file does not
carry comes from :class:`factory.operations.migration.migrate_given.Given`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from factory.job_contract import (
    DEFAULT_CPU,
    DEFAULT_MEMORY,
    JobArguments,
    JobSettings,
    ResultFrom,
    SecretKeys,
    credential_name,
)
from factory.models import INGESTION_TYPES
from factory.names import platform_slug, stream_key_from_dag_id
from factory.operations.migration.migrate_given import FROM_FILE, Given, MissingField
from factory.shape import JOB_TASK_ID, TASKS

if TYPE_CHECKING:
    from airflow.sdk import DAG

OURS = "yellow"
DATASURFACE_JULY_2025 = "datasurface-2025-07"
#: Every option any generation of the job takes (jobs.py ``main()``); True: a flag without value.
JOB_OPTIONS = {
    "--platform-name": False,
    "--store-name": False,
    "--dataset-name": False,
    "--operation": False,
    "--git-repo-path": False,
    "--git-repo-owner": False,
    "--git-repo-name": False,
    "--git-repo-branch": False,
    "--git-platform-repo-credential-name": False,
    "--max-cache-age-minutes": False,
    "--use-git-cache": True,
}
#: Where the job's URL rule comes from: DataSurface's ``GitHubRepository`` is OWNER/NAME on GitHub.
GITHUB_RULE = "file (--git-repo-owner/--git-repo-name, https://github.com/OWNER/NAME)"


class Unmappable(ValueError):
    """This DAG does not have the ingestion DAG's shape, or lacks a field; the message says which."""


@dataclass(frozen=True)
class SecretVar:
    env_var: str
    secret_name: str
    key: str


@dataclass
class JobReading:
    """What one static DAG's job receives, as data."""

    generation: str
    options: dict[str, Any]
    literals: dict[str, str]
    secrets: list[SecretVar]
    volumes: list[Any] = field(default_factory=list)


def generation_of(dag: DAG) -> str | None:
    """Which renderer made this DAG, by its tags (None: neither ours nor DataSurface's July one).
    Airflow keeps tags as a set: their order is not there to read."""
    tags = set(dag.tags or [])
    if "yellow" in tags:
        return OURS
    if {"datasurface", "ingestion"} <= tags:
        return DATASURFACE_JULY_2025
    return None


def parse_arguments(arguments: list[str]) -> dict[str, Any]:
    """The job's arguments as its parser sees them (order does not matter to argparse); an
    option no generation of the job knows, or given twice, is a reason to refuse the file."""
    found: dict[str, Any] = {}
    items = [str(a) for a in arguments]
    i = 0
    while i < len(items):
        name = items[i]
        if name not in JOB_OPTIONS:
            raise Unmappable(f"the job's argument {name!r} is not one DataSurface's job takes")
        if name in found:
            raise Unmappable(f"the job's argument {name} is given twice")
        if JOB_OPTIONS[name]:
            found[name] = True
            i += 1
            continue
        if i + 1 >= len(items):
            raise Unmappable(f"the job's argument {name} has no value")
        found[name] = items[i + 1]
        i += 2
    return found


def read_job(dag: DAG) -> JobReading:
    """The job task's arguments, literal environment and credential variables."""
    generation = generation_of(dag)
    if generation is None:
        raise Unmappable(f"its tags {sorted(dag.tags or [])} are neither ours nor DataSurface's July 2025 ones")
    expected = sorted(t.task_id for t in TASKS)
    if sorted(dag.task_ids) != expected:
        raise Unmappable(f"its tasks {sorted(dag.task_ids)} are not the ingestion DAG's {expected}")
    job: Any = dag.get_task(JOB_TASK_ID)
    if type(job).__name__ != "KubernetesPodOperator":
        raise Unmappable(f"{JOB_TASK_ID} is a {type(job).__name__}, not a KubernetesPodOperator")
    literals: dict[str, str] = {}
    secrets: list[SecretVar] = []
    for item in job.env_vars or []:
        ref = getattr(getattr(item, "value_from", None), "secret_key_ref", None)
        if ref is not None:
            secrets.append(SecretVar(str(item.name), str(ref.name), str(ref.key)))
        elif getattr(item, "value_from", None) is None:
            literals[str(item.name)] = str(item.value)
        else:
            raise Unmappable(f"its environment variable {item.name} comes from neither a value nor a secret key")
    if job.secrets:
        raise Unmappable("it mounts secrets through Secret(...) objects; neither generation does")
    return JobReading(
        generation, parse_arguments(list(job.arguments or [])), literals, secrets, list(job.volumes or [])
    )


def implied_job_settings(dag: DAG, reading: JobReading) -> JobSettings:
    """The platform job settings (:class:`factory.job_contract.JobSettings`) that make the factory
    pass what this file passes: argument generation, secret keys, checkout path, git cache."""
    options = reading.options
    if "--git-platform-repo-credential-name" in options:
        arguments = JobArguments.CURRENT
    elif "--git-repo-owner" in options:
        arguments = JobArguments.JULY_2025
    else:
        arguments = JobArguments.JULY_2025_NO_REPO
    user_keys = {s.key for s in reading.secrets if s.env_var.endswith("_USER")}
    keys = SecretKeys.PLAIN if "username" in user_keys else SecretKeys.PREFIXED
    repo_path = str(options.get("--git-repo-path", "/workspace/model"))
    claim = None
    for volume in reading.volumes:
        pvc = getattr(volume, "persistent_volume_claim", None)
        if pvc is not None:
            claim = str(pvc.claim_name)
    job: Any = dag.get_task(JOB_TASK_ID)
    xcom = reading.generation == OURS and bool(job.do_xcom_push)
    age = options.get("--max-cache-age-minutes")
    try:
        return JobSettings(
            secret_keys=keys,
            git_repo_path=repo_path,
            git_cache_claim=claim,
            max_cache_age_minutes=int(age) if age is not None else None,
            arguments=arguments,
            result_from=ResultFrom.XCOM if xcom else ResultFrom.STDOUT,
        )
    except ValueError as exc:
        raise Unmappable(f"its job settings cannot be expressed: {exc}") from None


@dataclass
class Credentials:
    merge: str
    git: str
    git_variable: str
    slack: str | None = None
    source: str | None = None
    kafka: str | None = None


def read_credentials(reading: JobReading) -> Credentials:
    """Which secret is which: the first user/password pair is the merge database's, a second one
    the SQL source's; the git token is the one the credential-name argument names (July: the
    first token, as DataSurface's template wrote it before Slack's); API key/secret is Kafka's."""
    pairs: list[str] = []
    tokens: list[SecretVar] = []
    kafka = None
    for s in reading.secrets:
        if s.env_var.endswith("_USER"):
            pairs.append(s.secret_name)
        elif s.env_var.endswith("_TOKEN"):
            tokens.append(s)
        elif s.env_var.endswith("_API_KEY"):
            kafka = s.secret_name
        elif not s.env_var.endswith(("_PASSWORD", "_API_SECRET")):
            raise Unmappable(f"its credential variable {s.env_var} is none the job reads")
    if not pairs:
        raise Unmappable("the job receives no merge database credential (<credential>_USER / _PASSWORD)")
    if len(pairs) > 2:
        raise Unmappable(f"the job receives {len(pairs)} user/password credentials; at most two exist")
    named = reading.options.get("--git-platform-repo-credential-name")
    gits = [t for t in tokens if t.env_var == f"{named}_TOKEN"] if named else tokens[:1]
    if not gits:
        raise Unmappable("the job receives no git token (<credential>_TOKEN from key 'token')")
    others = [t for t in tokens if t is not gits[0]]
    if len(others) > 1:
        raise Unmappable(f"the job receives {len(tokens)} tokens; git's and Slack's are all there are")
    return Credentials(
        merge=pairs[0],
        git=gits[0].secret_name,
        git_variable=gits[0].env_var.removesuffix("_TOKEN"),
        slack=others[0].secret_name if others else None,
        source=pairs[1] if len(pairs) > 1 else None,
        kafka=kafka,
    )


def _resources(value: Any) -> dict[str, str]:
    """The container's requests and limits, without those equal to DataSurface's defaults (the
    factory adds those itself)."""
    if value is None:
        return {}
    requests = dict(getattr(value, "requests", None) or {})
    limits = dict(getattr(value, "limits", None) or {})
    found = {
        "cpu_request": (requests.get("cpu"), DEFAULT_CPU),
        "memory_request": (requests.get("memory"), DEFAULT_MEMORY),
        "cpu_limit": (limits.get("cpu"), DEFAULT_CPU),
        "memory_limit": (limits.get("memory"), DEFAULT_MEMORY),
    }
    return {k: str(v) for k, (v, default) in found.items() if v is not None and str(v) != default}


def _our_description(description: str, store: str) -> tuple[str, list[str]] | None:
    """Platform name and datasets from our own description, ``Ingestion of S (a, b) on P``."""
    head = f"Ingestion of {store} ("
    if not description.startswith(head) or ") on " not in description:
        return None
    middle, _, platform = description[len(head) :].rpartition(") on ")
    return platform, middle.split(", ")


def config_data(dag: DAG, platform: str, given: Given) -> tuple[dict[str, Any], dict[str, str], JobSettings]:
    """The row a static DAG implies, where each of its fields came from, and the job settings the
    file implies. Raises :class:`Unmappable` with the reason (a field missing everywhere too)."""
    slug = platform_slug(platform)
    key = stream_key_from_dag_id(slug, dag.dag_id)
    if key is None:
        raise Unmappable(f"dag_id {dag.dag_id} is not of the form {slug}__<stream>_ingestion")
    reading = read_job(dag)
    job: Any = dag.get_task(JOB_TASK_ID)
    opts = reading.options
    creds = read_credentials(reading)
    data: dict[str, Any] = {"schema_version": 1, "stream_key": key}
    where: dict[str, str] = {}

    def from_file(name: str, value: Any, how: str = FROM_FILE) -> None:
        data[name], where[name] = value, how

    def from_given(name: str, why: str) -> None:
        try:
            data[name], where[name] = given.require(name, key, why)
        except MissingField as exc:
            raise Unmappable(str(exc)) from None

    def option(name: str) -> str:
        if name not in opts:
            raise Unmappable(f"the job has no {name} argument")
        return str(opts[name])

    from_file("store_name", option("--store-name"))
    from_file("original_platform_name", option("--platform-name"))
    from_file("namespace_name", job.namespace)
    from_file("datasurface_docker_image", job.image)
    single = "--dataset-name" in opts
    from_file("single_dataset", single)
    from factory.fingerprint import strip_fingerprint

    described = strip_fingerprint(dag.description)
    ours = _our_description(described, data["store_name"]) if reading.generation == OURS else None
    if single:
        from_file("datasets", [option("--dataset-name")])
    elif ours is not None:
        from_file("datasets", ours[1], "file (description)")
    else:
        from_given("datasets", "a multi-dataset stream's datasets are read from the model by the job")
    if ours is not None:
        from_file("platform_name", ours[0], "file (description)")
    elif reading.generation == DATASURFACE_JULY_2025 and "DATASURFACE_PLATFORM_NAME" in reading.literals:
        from_file("platform_name", reading.literals["DATASURFACE_PLATFORM_NAME"], "file (DATASURFACE_PLATFORM_NAME)")
    else:
        raise Unmappable("the platform name is neither in its description nor in DATASURFACE_PLATFORM_NAME")
    types = sorted(set(dag.tags or []) & set(INGESTION_TYPES))
    if reading.generation == OURS and len(types) == 1:
        from_file("ingestion_type", types[0], "file (tags)")
    elif creds.kafka:
        from_file("ingestion_type", "kafka", "file (Kafka Connect credential)")
    elif creds.source:
        from_file("ingestion_type", "sql_source", "file (SQL source credential)")
    else:
        from_given("ingestion_type", "July 2025 files do not record it")
    for name in ("postgres_hostname", "postgres_port", "postgres_database"):
        from_given(name, "the job reads its merge database from the model, so no static file names it")
    if "--git-repo-owner" in opts:
        from_file(
            "git_repo_url", f"https://github.com/{option('--git-repo-owner')}/{option('--git-repo-name')}", GITHUB_RULE
        )
        from_file("git_repo_branch", option("--git-repo-branch"))
    else:
        why = "this generation's job cloned a repository written into its code"
        from_given("git_repo_url", why)
        from_given("git_repo_branch", why)
    from_file("postgres_credential_secret_name", creds.merge)
    from_file("git_credential_secret_name", creds.git)
    if creds.git_variable != credential_name(creds.git):
        from_file("git_credential_name", creds.git_variable)
    if creds.slack:
        from_file("slack_credential_secret_name", creds.slack)
    if creds.source:
        from_file("source_credential_secret_name", creds.source)
    elif given.lookup("source_credential_secret_name", key) is not None:
        from_given("source_credential_secret_name", "")
    if creds.kafka:
        from_file("kafka_connect_credential_secret_name", creds.kafka)
    schedule = dag.schedule
    if schedule is not None and not isinstance(schedule, str):
        raise Unmappable(f"its schedule is a {type(schedule).__name__}, not a cron expression or preset")
    from_file("schedule", schedule)
    if reading.generation == OURS:
        if job.priority_weight:
            from_file("priority", int(job.priority_weight))
        resources = _resources(job.container_resources)
        if resources:
            from_file("job_resources", resources)
    return data, where, implied_job_settings(dag, reading)
