"""Reading and writing a platform's config rows, with a history of every change.

Functions take a SQLAlchemy ``Connection`` so callers choose the transaction: bootstrap writes
every platform in one, the loader only reads. No other module writes SQL for these tables.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, inspect, null, select, text

from factory.enums import RowStatus
from factory.errors import ConcurrentChangeError, IncompatibleTableError
from factory.names import DSG_SUFFIX, PLATFORM_NAME_RE
from factory.records import HistoryEntry
from factory.tables import SEED_COLUMNS, PlatformTables, platform_tables, table_exists


@dataclass(frozen=True)
class ConfigRow:
    """One row of ``{platform}_airflow_dsg`` as stored (config_json unparsed)."""

    platform: str
    stream_key: str
    config_json: str
    status: str
    created_at: datetime | None
    updated_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "stream_key": self.stream_key,
            "status": self.status,
            "config_json": self.config_json,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


@dataclass
class ApplySummary:
    """What an apply did, stream keys per kind of change."""

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "retired": self.retired,
        }


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def ensure_tables(conn: Connection, platform: str) -> bool:
    """Create the platform's tables where missing; adopt a seed-shaped config table as it is.

    Returns True when the config table was created, False when an existing one was adopted.
    """
    tables = platform_tables(platform)
    inspector = inspect(conn)
    existed = inspector.has_table(tables.dsg.name)
    if existed:
        columns = {c["name"] for c in inspector.get_columns(tables.dsg.name)}
        missing = [c for c in SEED_COLUMNS if c not in columns]
        if missing:
            raise IncompatibleTableError(
                f"table {tables.dsg.name} exists but lacks the column(s) {', '.join(missing)}; "
                "it is not a Yellow config table, so it was left untouched"
            )
    tables.metadata.create_all(conn, checkfirst=True)
    _add_new_columns(conn, tables)
    _ensure_history_trigger(conn, tables.dsg.name, tables.history.name)
    return not existed


#: Side-table columns added after the first release: (table attribute, column name, SQL type).
_ADDED_COLUMNS = (
    ("parses", "file_index", "smallint NOT NULL DEFAULT 0"),
    ("parses", "generation", "integer NOT NULL DEFAULT 0"),
    ("builds", "file_index", "smallint NOT NULL DEFAULT 0"),
    ("parses", "bundle", "smallint NOT NULL DEFAULT 0"),
    ("builds", "bundle", "smallint NOT NULL DEFAULT 0"),
    # The session's database user beside the actor; entries written before it stay readable (NULL).
    ("history", "db_user", "varchar(255)"),
)


def _add_new_columns(conn: Connection, tables: PlatformTables) -> None:
    """Bring side tables created by an earlier version up to date (``bootstrap`` after an upgrade)."""
    for attr, column, sql_type in _ADDED_COLUMNS:
        table = getattr(tables, attr).name
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {sql_type}"))


#: The history trigger. ``SECURITY DEFINER``: it writes history with its owner's rights, so a role
#: that may change rows needs no right on the history table (which stays append-only for it).
#: ``db_user`` is always the session's login user (``session_user``: ``SET ROLE`` does not change
#: it, and inside this function ``current_user`` is the owner). ``changed_by`` is the actor:
#: ``yellow.actor`` (set by our writers per transaction) when a trusted writer sets it
#: (superusers, members of the table's owner, members of ``{platform}_trusted_writer`` when it
#: exists), else the login user again. A claim never replaces ``db_user``.
_HISTORY_FUNCTION = """
CREATE OR REPLACE FUNCTION {dsg}_actor() RETURNS text LANGUAGE sql STABLE
SET search_path FROM CURRENT AS $$
    SELECT CASE
        WHEN (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user)
          OR pg_catalog.pg_has_role(session_user,
                (SELECT relowner FROM pg_catalog.pg_class WHERE oid = '{dsg}'::regclass), 'MEMBER')
          OR (pg_catalog.to_regrole('{trusted}') IS NOT NULL
              AND pg_catalog.pg_has_role(session_user, '{trusted}', 'MEMBER'))
        THEN coalesce(nullif(current_setting('yellow.actor', true), ''), session_user)
        ELSE session_user::text
    END
$$;
CREATE OR REPLACE FUNCTION {dsg}_record_history() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
DECLARE
    actor text := {dsg}_actor();
    login text := session_user;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {history} (stream_key, action, old_config_json, new_config_json, old_status, new_status, changed_by, db_user, changed_at)
        VALUES (NEW.stream_key, 'insert', NULL, NEW.config_json, NULL, NEW.status, actor, login, timezone('UTC', now()));
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.config_json IS DISTINCT FROM OLD.config_json OR NEW.status IS DISTINCT FROM OLD.status
           OR NEW.stream_key IS DISTINCT FROM OLD.stream_key THEN
            IF NEW.stream_key IS DISTINCT FROM OLD.stream_key THEN
                INSERT INTO {history} (stream_key, action, old_config_json, new_config_json, old_status, new_status, changed_by, db_user, changed_at)
                VALUES (OLD.stream_key, 'delete', OLD.config_json, NULL, OLD.status, NULL, actor, login, timezone('UTC', now())),
                       (NEW.stream_key, 'insert', NULL, NEW.config_json, NULL, NEW.status, actor, login, timezone('UTC', now()));
            ELSE
                INSERT INTO {history} (stream_key, action, old_config_json, new_config_json, old_status, new_status, changed_by, db_user, changed_at)
                VALUES (NEW.stream_key,
                        CASE WHEN NEW.config_json IS DISTINCT FROM OLD.config_json THEN 'update' ELSE 'status' END,
                        OLD.config_json, NEW.config_json, OLD.status, NEW.status, actor, login, timezone('UTC', now()));
            END IF;
        END IF;
        RETURN NEW;
    ELSIF TG_OP = 'TRUNCATE' THEN
        -- statement level, before the rows go: one 'truncate' entry per row, holding what it held
        INSERT INTO {history} (stream_key, action, old_config_json, new_config_json, old_status, new_status, changed_by, db_user, changed_at)
        SELECT stream_key, 'truncate', config_json, NULL, status, NULL, actor, login, timezone('UTC', now()) FROM {dsg};
        RETURN NULL;
    END IF;
    INSERT INTO {history} (stream_key, action, old_config_json, new_config_json, old_status, new_status, changed_by, db_user, changed_at)
    VALUES (OLD.stream_key, 'delete', OLD.config_json, NULL, OLD.status, NULL, actor, login, timezone('UTC', now()));
    RETURN OLD;
END
$$
"""


def _ensure_history_trigger(conn: Connection, dsg: str, history: str) -> None:
    """Record every change in history, also those made with psql or by other tools.

    Names come from :func:`platform_tables`, i.e. from a validated platform slug only. The
    writer's name comes from the ``yellow.actor`` setting our writers set per transaction,
    else the database user.
    """
    from sqlalchemy import text

    trusted = trusted_writer_role(dsg.removesuffix(DSG_SUFFIX))
    conn.execute(text(_HISTORY_FUNCTION.format(dsg=dsg, history=history, trusted=trusted)))
    triggers = {
        f"{dsg}_history": f"AFTER INSERT OR UPDATE OR DELETE ON {dsg} FOR EACH ROW",
        f"{dsg}_history_truncate": f"BEFORE TRUNCATE ON {dsg} FOR EACH STATEMENT",
    }
    for name, when in triggers.items():
        exists = conn.execute(
            text("SELECT 1 FROM pg_trigger WHERE tgname = :name AND tgrelid = CAST(:table AS regclass)"),
            {"name": name, "table": dsg},
        ).first()
        if not exists:
            conn.execute(text(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {dsg}_record_history()"))


def trusted_writer_role(platform: str) -> str:
    """The role whose members may name the actor of a change (``yellow.actor``)."""
    return f"{platform.lower()}_trusted_writer"


def _set_actor(conn: Connection, actor: str) -> None:
    """Name the writer for the history trigger, for this transaction only."""
    from sqlalchemy import text

    conn.execute(text("SELECT set_config('yellow.actor', :actor, true)"), {"actor": actor})


def list_platforms(conn: Connection) -> list[str]:
    """Platform slugs that have a config table in this database, sorted."""
    names = inspect(conn).get_table_names()
    found = []
    for name in names:
        if name.endswith(DSG_SUFFIX):
            slug = name[: -len(DSG_SUFFIX)]
            if PLATFORM_NAME_RE.fullmatch(slug):
                found.append(slug)
    return sorted(found)


def _row(platform: str, r: Any) -> ConfigRow:
    return ConfigRow(platform.lower(), r.stream_key, r.config_json, r.status, r.created_at, r.updated_at)


def iter_rows(
    conn: Connection,
    platform: str,
    *,
    status: str | None = None,
    stream_key: str | None = None,
    yield_per: int | None = None,
    exclude_statuses: tuple[str, ...] = (),
) -> Iterator[ConfigRow]:
    """Rows of the platform's config table, sorted by stream key; ``yield_per`` streams them
    from a server-side cursor in batches of that size instead of reading them all first."""
    t = platform_tables(platform).dsg
    query = select(t).order_by(t.c.stream_key)
    if status is not None:
        query = query.where(t.c.status == status)
    if exclude_statuses:
        query = query.where(t.c.status.not_in(exclude_statuses))
    if stream_key is not None:
        query = query.where(t.c.stream_key == stream_key)
    if yield_per:
        conn = conn.execution_options(stream_results=True, yield_per=yield_per)
    for r in conn.execute(query):
        yield _row(platform, r)


def read_rows(
    conn: Connection,
    platform: str,
    *,
    status: str | None = None,
    stream_key: str | None = None,
    exclude_statuses: tuple[str, ...] = (),
) -> list[ConfigRow]:
    """Rows of the platform's config table, sorted by stream key."""
    return list(iter_rows(conn, platform, status=status, stream_key=stream_key, exclude_statuses=exclude_statuses))


def read_row(conn: Connection, platform: str, stream_key: str) -> ConfigRow | None:
    rows = read_rows(conn, platform, stream_key=stream_key)
    return rows[0] if rows else None


def _same_json(a: str | None, b: str | None) -> bool:
    if a == b:
        return True
    try:
        return json.loads(a or "null") == json.loads(b or "null")
    except (TypeError, ValueError):
        return False


def _holds(row: ConfigRow | None, config_json: str, status: str) -> bool:
    """True when ``row`` already holds this config (as JSON, formatting aside) and status."""
    return row is not None and row.status == status and _same_json(row.config_json, config_json)


def content_digest(config_json: str, status: str) -> str:
    """A short digest of what a row holds, to notice edits that did not touch ``updated_at``."""
    return hashlib.sha256(f"{status}\x1f{config_json}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RowBase:
    """What a change was based on: the row as its writer read it.

    ``exists=False`` means "there was no such row"; otherwise ``updated_at`` and, when known,
    the content ``digest`` must both still hold for the write to go ahead.
    """

    exists: bool
    updated_at: datetime | None = None
    digest: str | None = None

    @classmethod
    def of(cls, row: ConfigRow | None) -> RowBase:
        if row is None:
            return cls(exists=False)
        return cls(exists=True, updated_at=row.updated_at, digest=content_digest(row.config_json, row.status))

    def matches(self, row: ConfigRow | None) -> bool:
        if row is None or not self.exists:
            return row is None and not self.exists
        if self.updated_at is not None and row.updated_at != self.updated_at:
            return False
        return self.digest is None or self.digest == content_digest(row.config_json, row.status)


def lock_row(conn: Connection, platform: str, stream_key: str) -> ConfigRow | None:
    """Read one row and lock it until the transaction ends (``SELECT ... FOR UPDATE``)."""
    t = platform_tables(platform).dsg
    found = conn.execute(select(t).where(t.c.stream_key == stream_key).with_for_update()).first()
    return _row(platform, found) if found else None


def check_base(row: ConfigRow | None, stream_key: str, base: RowBase | None) -> None:
    """Raise :class:`ConcurrentChangeError` when ``row`` is no longer what ``base`` saw."""
    if base is not None and not base.matches(row):
        now = f"updated_at {row.updated_at}" if row else "it no longer exists"
        raise ConcurrentChangeError(f"stream {stream_key!r} changed since it was read ({now}); reload and try again")


def write_row(
    conn: Connection,
    platform: str,
    stream_key: str,
    config_json: str,
    status: str = RowStatus.ACTIVE,
    *,
    actor: str | None = None,
    base: RowBase | None = None,
) -> str:
    """Insert or update one row; the history trigger records it. Returns 'inserted', 'updated' or
    'unchanged'.

    With ``base`` the write is conflict-checked: it happens only if the row is still what
    ``base`` saw, else :class:`ConcurrentChangeError` and nothing is written.
    """
    t = platform_tables(platform).dsg
    old_row = lock_row(conn, platform, stream_key)
    check_base(old_row, stream_key, base)
    if _holds(old_row, config_json, status):
        return "unchanged"
    now = _now(conn)
    _set_actor(conn, actor or default_actor())
    if old_row is None:
        conn.execute(
            t.insert().values(
                stream_key=stream_key, config_json=config_json, status=status, created_at=now, updated_at=now
            )
        )
        return "inserted"
    conn.execute(
        t.update().where(t.c.stream_key == stream_key).values(config_json=config_json, status=status, updated_at=now)
    )
    return "updated"


def _now(conn: Connection) -> datetime:
    """The database's clock in UTC, so every writer agrees on ``updated_at`` ordering."""
    return conn.execute(select(func.timezone("UTC", func.now()))).scalar_one()


def apply_rows(
    conn: Connection,
    platform: str,
    desired: Iterable[tuple[str, str]],
    *,
    actor: str | None = None,
    retire_missing: bool = True,
    keep: frozenset[str] = frozenset(),
) -> ApplySummary:
    """Make the table hold ``desired`` (stream_key, config_json) as active rows.

    Unchanged rows are not rewritten (their ``updated_at`` stays); rows no longer desired are
    marked ``retired``, never deleted, except those in ``keep``, left as they are. Call inside
    a transaction.
    """
    summary = ApplySummary()
    wanted = dict(desired)
    t = platform_tables(platform).dsg
    existing = {r.stream_key: _row(platform, r) for r in conn.execute(select(t).with_for_update())}
    for key in sorted(wanted):
        if _holds(existing.get(key), wanted[key], RowStatus.ACTIVE):  # already locked and read above
            summary.unchanged.append(key)
            continue
        outcome = write_row(conn, platform, key, wanted[key], RowStatus.ACTIVE, actor=actor)
        getattr(summary, outcome).append(key)
    if retire_missing:
        for key in sorted(set(existing) - set(wanted) - keep):
            if existing[key].status != RowStatus.RETIRED:
                write_row(conn, platform, key, existing[key].config_json, RowStatus.RETIRED, actor=actor)
                summary.retired.append(key)
    return summary


def read_history(
    conn: Connection, platform: str, stream_key: str | None = None, limit: int = 200
) -> list[HistoryEntry]:
    """Newest first; none while the table has no history table (a table DataSurface made)."""
    h = platform_tables(platform).history
    if not table_exists(conn, h.name):
        return []
    # A table an earlier version made has no db_user until bootstrap upgrades it: read it as NULL.
    upgraded = _has_column(conn, h.name, "db_user")
    columns = [c if upgraded or c.name != "db_user" else null().label("db_user") for c in h.columns]
    query = select(*columns).order_by(h.c.changed_at.desc(), h.c.id.desc()).limit(limit)
    if stream_key is not None:
        query = query.where(h.c.stream_key == stream_key)
    return [HistoryEntry.from_row(r._mapping) for r in conn.execute(query)]


def _has_column(conn: Connection, table: str, column: str) -> bool:
    found = conn.execute(
        text("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attname = :c AND NOT attisdropped"),
        {"t": table, "c": column},
    )
    return found.first() is not None


def fingerprint(conn: Connection, platform: str) -> str:
    """A cheap digest of the whole config table: if it is unchanged, nothing needs re-reading.

    One aggregate query hashes every row server-side (count, newest updated_at, and a sum of
    per-row hashes, so edits that keep updated_at are caught too).
    """
    t = platform_tables(platform).dsg
    row_hash = func.hashtextextended(t.c.stream_key + "\x1f" + t.c.status + "\x1f" + t.c.config_json, 0)
    count, newest, total = conn.execute(
        select(func.count(), func.max(t.c.updated_at), func.coalesce(func.sum(row_hash), 0))
    ).one()
    return f"{count}:{newest.isoformat() if newest else '-'}:{total}"


def delete_row(
    conn: Connection,
    platform: str,
    stream_key: str,
    *,
    actor: str | None = None,
    base: RowBase | None = None,
) -> bool:
    """Delete one row (the history trigger records it, with the actor). Returns False when there
    was no such row. With ``base`` it is conflict-checked like :func:`write_row`.
    """
    old_row = lock_row(conn, platform, stream_key)
    check_base(old_row, stream_key, base)
    if old_row is None:
        return False
    actor = actor or default_actor()
    _set_actor(conn, actor)
    t = platform_tables(platform).dsg
    conn.execute(t.delete().where(t.c.stream_key == stream_key))
    return True


#: Stream keys share this many advisory locks per platform: two writers of one key always meet,
#: and a bootstrap of 20,000 streams holds at most this many locks, not one per key (PostgreSQL's
#: shared lock table holds about 6,400 by default, for every session together).
KEY_LOCKS = 256


def lock_keys(conn: Connection, platform: str, stream_keys: Iterable[str]) -> None:
    """Serialize writers of these stream keys until the transaction ends, rows or not.

    ``SELECT ... FOR UPDATE`` cannot lock a row that does not exist yet, so two writers creating
    the same new stream would both pass their check; a transaction-level advisory lock per key's
    bucket (``KEY_LOCKS`` of them, taken in sorted order in one statement, so two writers never
    deadlock) makes the second wait and then see the first one's row.
    """
    from sqlalchemy import text

    table = platform_tables(platform).dsg.name
    buckets = sorted({_digest(f"{table}\x1f{key}") % KEY_LOCKS for key in stream_keys})
    ids = [_digest(f"{table}\x1f#{bucket}") - (1 << 63) for bucket in buckets]  # signed 64-bit
    if ids:
        conn.execute(
            text("SELECT count(pg_advisory_xact_lock(id)) FROM unnest(CAST(:ids AS bigint[])) AS t(id)"),
            {"ids": ids},
        )


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")
