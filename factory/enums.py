"""The factory's vocabulary: a row's status, a stream's outcome, where a parse read its configs.

``StrEnum`` members compare equal to their string values, so rows, reports and JSON written
before these existed read back unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class RowStatus(StrEnum):
    """The operator's intent for a stream, as stored in the seed table's ``status`` column."""

    ACTIVE = "active"  # builds a DAG
    PAUSED = "paused"  # kept, builds nothing
    RETIRED = "retired"  # no longer wanted; bootstrap marks removed streams so, never deletes


class Outcome(StrEnum):
    """What one parse made of one stream."""

    OK = "ok"
    STALE = "stale"  # the row is invalid now; its last good config still builds the DAG
    ERROR = "error"  # no DAG for this stream in this parse
    #: Not built here on purpose: the stream's legacy static file is still in the dags folder and
    #: defines its dag_id (a migration in progress); the DAG exists, from that file.
    SKIPPED = "skipped"


class Source(StrEnum):
    """Where a parse got its configs from."""

    DATABASE = "database"  # rows read and validated
    UNCHANGED = "database-unchanged"  # the fingerprint matched: the snapshot's configs reused
    SNAPSHOT = "snapshot"  # the database could not be read: last-known-good configs


class LoadMode(StrEnum):
    """A full parse (the DAG processor) or one dag_id (a worker starting a task)."""

    FULL = "full"
    SINGLE = "single"


class JobLauncher(StrEnum):
    """Where ``snapshot_merge_job`` runs (``YELLOW_JOB_LAUNCHER``)."""

    KUBERNETES = "kubernetes"  # a pod: production
    LOCAL = "local"  # a process on the Airflow worker: tests and the demo
