"""The tables of one platform: the seed's config table and our side tables.

The seed table keeps exactly its five columns so existing tables keep working; history, parse
reports and per-stream build results live in side tables named after it, and so do the
platform's policy (:mod:`factory.policy`) and, for a split platform, its layout row
(:mod:`factory.split`). Every table is defined here, so one file says what a platform owns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)

from factory.names import dsg_table_name, platform_slug

SEED_COLUMNS = ("stream_key", "config_json", "status", "created_at", "updated_at")
POLICY_SUFFIX = "_airflow_dsg_policy"
LAYOUT_SUFFIX = "_airflow_dsg_layout"


@dataclass(frozen=True)
class PlatformTables:
    """Table objects for one platform; names are built only from a validated platform slug."""

    platform: str
    metadata: MetaData
    dsg: Table
    history: Table
    parses: Table
    builds: Table


@lru_cache(maxsize=256)
def platform_tables(platform: str) -> PlatformTables:
    base = dsg_table_name(platform)  # validates the name
    md = MetaData()
    dsg = Table(
        base,
        md,
        Column("stream_key", String(255), primary_key=True),
        Column("config_json", String(2048), nullable=False),
        Column("status", String(50), nullable=False, server_default=text("'active'")),
        Column("created_at", DateTime, server_default=func.current_timestamp()),
        Column("updated_at", DateTime, server_default=func.current_timestamp()),
    )
    history = Table(
        f"{base}_history",
        md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("stream_key", String(255), nullable=False, index=True),
        Column("action", String(20), nullable=False),
        Column("old_config_json", Text),
        Column("new_config_json", Text),
        Column("old_status", String(50)),
        Column("new_status", String(50)),
        # The actor: a trusted writer's claim (yellow.actor), else the database user.
        Column("changed_by", String(255), nullable=False),
        Column("changed_at", DateTime, nullable=False, server_default=func.current_timestamp()),
        # The session's database user (session_user), whoever claims to act; NULL in entries
        # written before this column existed.
        Column("db_user", String(255)),
    )
    parses = Table(
        f"{base}_parse",
        md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("parsed_at", DateTime, nullable=False, index=True),
        Column("host", String(255), nullable=False),
        Column("pid", Integer, nullable=False),
        Column("mode", String(20), nullable=False),
        Column("source", String(20), nullable=False),
        Column("source_detail", Text),
        Column("rows_read", Integer, nullable=False),
        Column("dags_built", Integer, nullable=False),
        Column("errors", Integer, nullable=False),
        Column("reused", Integer, nullable=False, server_default=text("0")),
        # Which of the platform's split files parsed, under which layout generation (factory.split).
        Column("file_index", SmallInteger, nullable=False, server_default=text("0")),
        Column("generation", Integer, nullable=False, server_default=text("0")),
        # Which DAG bundle the file's copy was in (factory.bundles; 0: Airflow's dags-folder).
        Column("bundle", SmallInteger, nullable=False, server_default=text("0")),
        Column("load_ms", Float, nullable=False),
        Column("validate_ms", Float, nullable=False),
        Column("build_ms", Float, nullable=False),
        Column("total_ms", Float, nullable=False),
    )
    builds = Table(
        f"{base}_build",
        md,
        Column("stream_key", String(255), primary_key=True),
        Column("outcome", String(20), nullable=False),
        Column("error", Text),
        Column("build_ms", Float),
        Column("config_hash", String(64)),
        Column("parse_id", BigInteger),
        Column("recorded_at", DateTime, nullable=False),
        Column("file_index", SmallInteger, nullable=False, server_default=text("0")),
        Column("bundle", SmallInteger, nullable=False, server_default=text("0")),
    )
    return PlatformTables(
        platform=platform.lower(), metadata=md, dsg=dsg, history=history, parses=parses, builds=builds
    )


def policy_table(platform: str) -> Table:
    """The platform's policy: one row (``id`` 1) of JSON, written by ``bootstrap``."""
    return Table(
        f"{platform_slug(platform)}{POLICY_SUFFIX}",
        MetaData(),
        Column("id", SmallInteger, primary_key=True, autoincrement=False),
        Column("policy_json", Text, nullable=False),
        Column("updated_at", DateTime, nullable=False),
    )


def layout_table(platform: str) -> Table:
    """The layout row (``id`` 1) of a platform split over several files or bundles."""
    return Table(
        f"{platform_slug(platform)}{LAYOUT_SUFFIX}",
        MetaData(),
        Column("id", SmallInteger, primary_key=True, autoincrement=False),
        Column("files", SmallInteger, nullable=False),
        Column("previous_files", SmallInteger, nullable=False),
        Column("generation", Integer, nullable=False),
        Column("changed_at", DateTime, nullable=False),
        Column("changed_by", String(255), nullable=False),
        Column("bundles", SmallInteger, nullable=False, server_default=text("1")),
        Column("previous_bundles", SmallInteger, nullable=False, server_default=text("1")),
    )


def table_exists(conn: Connection, name: str) -> bool:
    """Whether the table ``name`` exists (one catalogue lookup; side tables are optional)."""
    return bool(conn.execute(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name}).scalar_one())
