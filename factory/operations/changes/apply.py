"""Apply a changeset: every change in one transaction, conflict-checked, or nothing.

The touched streams are planned first (validated and built by the factory's builder). Then,
inside the transaction, each touched stream is locked (its row with ``SELECT ... FOR UPDATE``,
and its key with an advisory lock, so two writers creating the same new stream wait for each
other instead of both passing their check), in sorted order so two writers never deadlock.
Then every change's base is checked against the locked row and *all* conflicts are collected
into one :class:`ChangesetConflict`; a change that would not build rejects the changeset; only
then is anything written. The history trigger records every write with the actor, set for this transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from factory import store
from factory.errors import ChangesetConflict, ChangesetRejected, RowConflict, UnknownPlatformError
from factory.operations.changes.changeset import Changeset
from factory.operations.changes.plan import Action, Plan, RowOp, plan_changes

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass
class ApplyResult:
    """What an apply wrote (or, for a dry run, would have written), per stream."""

    platform: str
    actor: str
    dry_run: bool
    plan: Plan
    written: dict[str, RowOp] = field(default_factory=dict)
    #: Streams whose base no longer held but were written anyway (``force=True``).
    forced: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "actor": self.actor,
            "dry_run": self.dry_run,
            "written": {k: str(v) for k, v in self.written.items()},
            "forced": self.forced,
            "plan": self.plan.to_dict(),
        }


def write_changeset(
    conn: Connection, changeset: Changeset, *, actor: str | None = None, force: bool = False
) -> ApplyResult:
    """Apply ``changeset`` on ``conn`` inside the caller's transaction (which must roll back if
    this raises). Raises :class:`ChangesetConflict` (every stale base, before writing anything;
    skipped with ``force``), :class:`ChangesetRejected` (a change that would not validate or
    build, or a status change of a missing stream) or :class:`UnknownPlatformError`.
    """
    from sqlalchemy import inspect

    from factory.operations.inspection.views import platform_rules

    slug = changeset.platform
    actor = actor or store.default_actor()
    if not inspect(conn).has_table(store.platform_tables(slug).dsg.name):
        raise UnknownPlatformError(f"platform {slug!r} has no config table in this database")
    changes = changeset.by_key()
    keys = sorted(changes)
    # Plan (validate and build) before taking locks, so other writers wait milliseconds, not
    # for Airflow's import; re-plan under the locks only if a row moved in between.
    # Every row it writes is judged by the platform's policy and the cross-platform dag_id rule,
    # as the loader judges it (rows it does not touch are not judged).
    rules = platform_rules(conn, slug)
    read = {key: store.read_row(conn, slug, key) for key in keys}
    plan = plan_changes(slug, read, changeset, diff=False, rules=rules)
    store.lock_keys(conn, slug, keys)
    rows = {key: store.lock_row(conn, slug, key) for key in keys}
    if any(store.RowBase.of(rows[key]) != store.RowBase.of(read[key]) for key in keys):
        plan = plan_changes(slug, rows, changeset, diff=False, rules=rules)
    conflicts = [
        RowConflict(
            key,
            _reason(rows[key], changes[key].base.exists),  # type: ignore[union-attr]
            rows[key].to_dict() if rows[key] is not None else None,  # type: ignore[union-attr]
            changes[key].model_dump(mode="json", exclude_none=True),
        )
        for key in keys
        if changes[key].base is not None and not changes[key].base.to_row_base().matches(rows[key])  # type: ignore[union-attr]
    ]
    if conflicts and not force:
        raise ChangesetConflict(slug, conflicts)
    rejected = {e.stream_key: e.problems for e in plan.entries if e.action is Action.FAILS}
    if rejected:
        raise ChangesetRejected(slug, rejected)
    result = ApplyResult(slug, actor, dry_run=False, plan=plan, forced=[c.stream_key for c in conflicts])
    for entry in plan.entries:
        if entry.row_op is RowOp.DELETE:
            store.delete_row(conn, slug, entry.stream_key, actor=actor)
        elif entry.row_op is not RowOp.NONE:
            assert entry.new_config_json is not None and entry.new_status is not None
            store.write_row(conn, slug, entry.stream_key, entry.new_config_json, entry.new_status, actor=actor)
        else:
            continue
        result.written[entry.stream_key] = entry.row_op
    return result


def apply_changeset(
    db_url: str,
    changeset: Changeset,
    *,
    actor: str | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> ApplyResult:
    """Apply ``changeset`` to the database at ``db_url`` in a transaction of its own.

    ``dry_run`` does everything, conflict check and writes included, then rolls back: what it
    reports is exactly what an apply would do now. A unique violation (another writer created
    one of the streams without taking our locks, e.g. by hand in psql) is a conflict too.
    """
    from sqlalchemy.exc import IntegrityError, OperationalError

    from factory.db import get_engine, reachable, redact
    from factory.errors import RetryableConflict

    with reachable(redact(db_url)), get_engine(db_url).connect() as conn:
        transaction = conn.begin()
        try:
            result = write_changeset(conn, changeset, actor=actor, force=force)
        except IntegrityError as exc:
            transaction.rollback()
            raise ChangesetConflict(changeset.platform, _unique_conflicts(changeset, exc)) from None
        except OperationalError as exc:
            transaction.rollback()
            if retryable(exc):
                raise RetryableConflict(
                    f"platform {changeset.platform}: another writer changed the same rows at the same moment "
                    "(deadlock or serialization failure); nothing was written; run the same command again"
                ) from None
            raise
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
            result.dry_run = True
        else:
            commit(
                transaction, f"{len(result.written)} change(s) to platform {changeset.platform}", _check_hint(changeset)
            )
        return result


def commit(transaction: Any, what: str, check: str) -> None:
    """Commit; a connection lost *during* COMMIT is :class:`OutcomeUnknown`, never "nothing was
    written": the server may have committed before the answer was lost."""
    from sqlalchemy import exc as sa_exc

    from factory.errors import OutcomeUnknown, first_line

    try:
        transaction.commit()
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError) as exc:
        raise OutcomeUnknown(what, check, first_line(exc)) from None


def _check_hint(changeset: Changeset) -> str:
    keys = sorted(changeset.by_key())
    shown = keys[0] if keys else "KEY"
    return f"`yellowtui config show {shown} --platform {changeset.platform}` (its history) or `yellowtui config list --platform {changeset.platform}`"


def retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction was rolled back and may simply be run again."""
    code = getattr(getattr(exc, "orig", None), "pgcode", None)
    return code in ("40001", "40P01")


def _reason(row: store.ConfigRow | None, expected_to_exist: bool) -> str:
    if row is None:
        return "deleted since it was read"
    if not expected_to_exist:
        return f"created by someone else (updated_at {row.updated_at})"
    return f"changed since it was read (updated_at {row.updated_at})"


def _unique_conflicts(changeset: Changeset, exc: Exception) -> list[RowConflict]:
    """The streams a unique violation may name; all inserts of the changeset when it names none."""
    detail = str(getattr(exc, "orig", exc))
    changes = changeset.by_key()
    named = [key for key in changes if f"=({key})" in detail]
    return [
        RowConflict(key, "created by someone else at the same time", None, changes[key].model_dump(mode="json"))
        for key in (named or sorted(changes))
    ]
