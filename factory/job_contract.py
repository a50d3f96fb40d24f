"""DataSurface's snapshot-merge job as its own source defines it, and the platform's settings for it.

Every ingestion DAG runs one program: ``python -m datasurface.platforms.yellow.jobs`` from the
platform's ``datasurface/datasurface`` image. The facts below were read in DataSurface's public
repository (billynewport/datasurface, Business Source License: read, not copied):

- ``src/datasurface/platforms/yellow/jobs.py``, ``main()``: the argparse arguments. Required
  ``--platform-name``, ``--git-repo-path``, ``--git-repo-owner``, ``--git-repo-name``,
  ``--git-repo-branch``, ``--git-platform-repo-credential-name``; optional ``--store-name``,
  ``--dataset-name``, ``--operation`` (default ``snapshot-merge``), ``--use-git-cache`` (a
  ``store_true`` flag whose default is already True), ``--max-cache-age-minutes N`` (default 5).
  The July 2025 job required ``--store-name`` and had no credential-name argument.
- the same file's ``__main__``: one line ``DATASURFACE_RESULT_CODE=<n>`` on stdout, ``1`` keep
  working, ``0`` done, ``-1`` error (also printed for an unhandled exception); exit status 1 for
  an error, 0 otherwise. It writes no ``/airflow/xcom/return.json``.
- ``yellow_dp.py``, ``KubernetesEnvVarsCredentialStore``: a user/password credential named C is
  read from ``C_USER`` and ``C_PASSWORD``, a token from ``C_TOKEN``; credential names must be
  legal environment variable names (``^[A-Za-z_][A-Za-z0-9_]*$``). ``K8sUtils.to_k8s_name`` makes
  a credential's secret name by lower-casing it and turning ``_`` into ``-``.
- the DAG templates (``templates/jinja/ingestion_stream_dag.py.j2`` of July 2025,
  ``airflow2X/infrastructure_dag.py.j2`` of September 2025): ``DATASURFACE_PLATFORM_NAME`` (the
  original platform name) and ``DATASURFACE_NAMESPACE`` as literals; the merge credential always,
  a SQL source's credential when it differs from the merge one, Kafka Connect's as ``C_API_KEY``
  / ``C_API_SECRET`` (keys ``api_key`` / ``api_secret``), git's token from key ``token``; the
  user/password keys are ``C_USER`` / ``C_PASSWORD`` in the September generation and
  ``username`` / ``password`` in July's. ``do_xcom_push=False`` ("the XCom sidecar needs
  pods/exec"), ``get_logs=True``, ``on_finish_action="delete_pod"``, ``max_active_runs=1``,
  requests and limits from the stream's ``job_limits`` (defaults ``256Mi`` / ``100m``),
  ``priority_weight`` from its priority with ``weight_rule="absolute"``, and a git-cache
  PersistentVolumeClaim mounted at the repository path when the cache is on.

Airflow itself: ``KubernetesPodOperatorCallback.on_pod_completion`` (cncf-kubernetes 10.25,
``callbacks.py`` and ``operators/pod.py``) runs after the pod ends and before it is deleted,
with the kube client, the operator and the task context; that is where the result line is read
(:mod:`factory.pod_result`), through ``pods/log`` only.

Cheap to import: pydantic and the standard library only.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

JOB_MODULE = "datasurface.platforms.yellow.jobs"
OPERATION = "snapshot-merge"
#: The job's one line of result, alone on its line (log prefixes are tolerated before it).
RESULT_LINE_RE = re.compile(r"(?:^|\s)DATASURFACE_RESULT_CODE=(-?\d+)\s*$")
RESULT_PREFIX = "DATASURFACE_RESULT_CODE="
#: Where ``snapshot_merge_job`` leaves the code for ``check_result`` when it is read from stdout.
RESULT_XCOM_KEY = "datasurface_result_code"
#: What a job that writes ``/airflow/xcom/return.json`` pushes (Airflow's default XCom key).
RETURN_VALUE_KEY = "return_value"
#: DataSurface's pod defaults when a stream sets no limits (infrastructure_dag.py.j2).
DEFAULT_MEMORY = "256Mi"
DEFAULT_CPU = "100m"
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PATH_RE = re.compile(r"^/[A-Za-z0-9._/-]{0,254}$")


class SecretKeys(StrEnum):
    """How the user/password keys inside a credential's Kubernetes secret are named."""

    PREFIXED = "prefixed"  # C_USER / C_PASSWORD: DataSurface's generation since August 2025
    PLAIN = "plain"  # username / password: the July 2025 static files


class JobArguments(StrEnum):
    """Which generation of the job's command line the platform's image accepts (argparse rejects
    an argument it does not know, so the DAG must pass exactly its image's set)."""

    #: jobs.py since August 2025: adds the required --git-platform-repo-credential-name.
    CURRENT = "current"
    #: jobs.py and ingestion_stream_dag.py.j2 of 2025-07-17/18 (commit c7cdb5c), the last static
    #: generation: --git-repo-owner / --git-repo-name / --git-repo-branch, no credential name.
    JULY_2025 = "july-2025"
    #: the same files at commit db4c68f (2025-07-17, "No more xcom"): --platform-name,
    #: --store-name, --dataset-name, --operation and --git-repo-path only (the job cloned a
    #: repository written into its own code).
    JULY_2025_NO_REPO = "july-2025-no-repo"


class ResultFrom(StrEnum):
    """How ``check_result`` learns the job's result code."""

    STDOUT = "stdout"  # the DATASURFACE_RESULT_CODE line, read through pods/log (the real job)
    XCOM = "xcom"  # /airflow/xcom/return.json through the XCom sidecar (needs pods/exec)


class JobSettings(BaseModel):
    """A platform's settings for running the job; the defaults are DataSurface's current generation.

    Set in the ``job:`` section of a platform in the ecosystem file; ``bootstrap`` stores them with
    the platform's policy, so the factory, the static files and the dashboard build alike.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    secret_keys: SecretKeys = Field(
        default=SecretKeys.PREFIXED,
        description="Key names of user/password secrets: prefixed (C_USER) or plain (username).",
    )
    git_repo_path: str = Field(default="/workspace/model", description="Where the job checks the model out in the pod.")
    git_cache_claim: str | None = Field(
        default=None,
        description="A PersistentVolumeClaim mounted at git_repo_path as the shared git cache; none: no cache.",
    )
    max_cache_age_minutes: int | None = Field(
        default=None, ge=0, le=10080, description="--max-cache-age-minutes; none: the job's default (5)."
    )
    arguments: JobArguments = Field(
        default=JobArguments.CURRENT,
        description="The job's command-line generation: current, july-2025 or july-2025-no-repo (July 2025 images).",
    )
    result_from: ResultFrom = Field(
        default=ResultFrom.STDOUT,
        description="stdout: the DATASURFACE_RESULT_CODE line; xcom: a job writing return.json.",
    )

    @field_validator("git_repo_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not PATH_RE.fullmatch(value) or "/../" in f"{value}/":
            raise ValueError(f"{value!r} is not an absolute path of letters, digits, '.', '_', '-' and '/'")
        return value

    @field_validator("git_cache_claim")
    @classmethod
    def _claim(cls, value: str | None) -> str | None:
        from factory.names import is_k8s_subdomain

        if value is not None and not is_k8s_subdomain(value):
            raise ValueError(f"{value!r} is not a valid PersistentVolumeClaim name")
        return value

    @model_validator(mode="after")
    def _cache_needs_current_job(self) -> JobSettings:
        if self.arguments is not JobArguments.CURRENT and (
            self.git_cache_claim or self.max_cache_age_minutes is not None
        ):
            raise ValueError(
                f"arguments {self.arguments.value}: the July 2025 job has no --use-git-cache or "
                "--max-cache-age-minutes; leave git_cache_claim and max_cache_age_minutes unset"
            )
        return self

    @property
    def uses_git_cache(self) -> bool:
        return self.git_cache_claim is not None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


DEFAULT_JOB_SETTINGS = JobSettings()


def credential_name(secret_name: str) -> str:
    """The DataSurface credential a Kubernetes secret holds, as the job names its variables.

    DataSurface names a credential's secret ``to_k8s_name(C)`` (lower case, ``_`` -> ``-``) and
    requires C to be a legal environment variable name, so C has no ``-`` and turning ``-`` back
    into ``_`` recovers it (``postgres`` -> ``postgres``, ``eu-cred`` -> ``eu_cred``). DataSurface's
    own DAGs put the secret's name in the variable instead, which only works while the two agree.
    """
    return secret_name.replace("-", "_")


def user_password_keys(secret_name: str, keys: SecretKeys) -> tuple[str, str]:
    """The keys inside the secret that hold the user and the password."""
    if keys is SecretKeys.PLAIN:
        return "username", "password"
    return f"{secret_name}_USER", f"{secret_name}_PASSWORD"


class JobResultError(ValueError):
    """The job's output has no usable ``DATASURFACE_RESULT_CODE`` line."""


def result_code(output: str) -> int:
    """The code of the job's ``DATASURFACE_RESULT_CODE=<n>`` line in ``output``.

    The same line twice is one answer; two different codes, or none, are an error that says so:
    the branch must never guess.
    """
    codes = []
    for line in output.splitlines():
        match = RESULT_LINE_RE.search(line.rstrip("\r"))
        if match:
            codes.append(int(match.group(1)))
    if not codes:
        raise JobResultError(
            f"the job printed no {RESULT_PREFIX}<n> line; DataSurface's job prints one as it ends "
            "(1 keep working, 0 done, -1 error): is this the job image it expects?"
        )
    if len(set(codes)) > 1:
        shown = ", ".join(str(c) for c in dict.fromkeys(codes))
        raise JobResultError(f"the job printed {RESULT_PREFIX} lines with different codes ({shown}); expected one")
    return codes[0]
