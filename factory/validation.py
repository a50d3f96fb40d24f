"""Rows -> validated configs, each row on its own, so one bad row costs only its own DAG.

A row whose text is unchanged since the snapshot was written reuses the snapshot's validated
config; an invalid row whose last good config is in the snapshot is STALE and still builds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from factory.enums import LoadMode, Outcome, RowStatus
from factory.errors import ConfigProblem, StreamConfigError
from factory.models import StreamConfig, parse_config
from factory.outcome import StreamOutcome
from factory.policy import effective_policy
from factory.rules import Rules
from factory.snapshot import LastGood, Snapshot
from factory.source import ParseTarget, RowsRead, SourceRead


def config_hash(config_json: str) -> str:
    return hashlib.sha256(config_json.encode("utf-8")).hexdigest()[:16]


@dataclass
class Validated:
    """The usable configs, the outcomes of rows that are not OK, and the config hash per key."""

    configs: dict[str, StreamConfig] = field(default_factory=dict)
    problems: list[StreamOutcome] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    reused: int = 0  # configs taken from the snapshot instead of validated again


def validate_source(read: SourceRead, target: ParseTarget, last_good: LastGood) -> Validated:
    """Validate what was read; an unchanged table or an unreachable one gives the snapshot's configs."""
    if not isinstance(read, RowsRead):
        return snapshot_configs(read.snapshot, target.stream_key)
    rules = Rules(target.platform, effective_policy(target.platform, read.policy), read.platforms)
    if target.mode is LoadMode.FULL:
        checked = validate_rows(read.rows, last_good.snapshot, rules=rules)
    else:
        # The worker reads the snapshot only when its row is invalid: it may hold a last good config.
        checked = validate_rows(read.rows, rules=rules)
        if checked.problems and last_good.snapshot is not None:
            checked = validate_rows(read.rows, last_good.snapshot, rules=rules)
    for key, status, raw in read.unknown_status:
        error = f"stream {key!r}: {unknown_status_message(status)}"
        problem = ConfigProblem("status", unknown_status_message(status)).to_dict()
        checked.problems.append(StreamOutcome(key, Outcome.ERROR, error, [problem], config_hash=config_hash(raw)))
        checked.hashes[key] = config_hash(raw)
    return checked


def unknown_status_message(status: str) -> str:
    shown = repr(status[:50])
    return f"status {shown} is not one of {', '.join(RowStatus)}; the row builds no DAG until it is fixed"


def validate_rows(
    rows: Iterable[tuple[str, str]], fallback: Snapshot | None = None, *, rules: Rules | None = None
) -> Validated:
    """Validate each (stream_key, config_json) on its own; reuse ``fallback``'s config for a row
    whose text has not changed since it was written (its platform ``rules`` are checked again:
    they may have changed since)."""
    out = Validated()
    for key, raw in rows:
        out.rows_read += 1
        digest = out.hashes[key] = config_hash(raw or "")
        unchanged = fallback.config(key) if fallback is not None and fallback.holds(key, digest) else None
        if unchanged is not None:  # validated when the snapshot was written; same text since
            broken = rules.problems(unchanged, key) if rules is not None else []
            if not broken:
                out.configs[key] = unchanged
                out.reused += 1
                continue
        try:
            out.configs[key] = parse_config(raw, stream_key=key, rules=rules)
        except StreamConfigError as exc:
            _invalid(out, key, exc, fallback, rules)
        except Exception as exc:  # a bug must not cost the other streams their DAGs
            error = f"stream {key!r}: {type(exc).__name__}: {exc}"
            out.problems.append(StreamOutcome(key, Outcome.ERROR, error, config_hash=digest))
    return out


def _invalid(
    out: Validated, key: str, exc: StreamConfigError, fallback: Snapshot | None, rules: Rules | None = None
) -> None:
    """An invalid row is an ERROR, or STALE when ``fallback`` still holds its last good config
    (and that config still keeps the platform's rules)."""
    problems = [p.to_dict() for p in exc.problems]
    outcome = StreamOutcome(key, Outcome.ERROR, str(exc), problems, config_hash=out.hashes[key])
    good = fallback.config(key) if fallback else None
    if good is not None and rules is not None and rules.problems(good, key):
        good = None
    if good is not None:
        out.configs[key] = good
        outcome.outcome = Outcome.STALE
        outcome.error = f"{exc} (building its last good config from the snapshot)"
    out.problems.append(outcome)


def snapshot_configs(snapshot: Snapshot, stream_key: str | None = None) -> Validated:
    """The snapshot's configs (validated when written, not again) and its recorded problems."""
    keys = [stream_key] if stream_key else sorted(set(snapshot.configs) | set(snapshot.errors))
    out = Validated(hashes={k: snapshot.hashes.get(k, "") for k in keys})
    out.configs = {k: c for k in keys if (c := snapshot.config(k)) is not None}
    out.problems = [
        StreamOutcome(
            k, Outcome.STALE if k in out.configs else Outcome.ERROR, error, config_hash=snapshot.hashes.get(k)
        )
        for k in keys
        if (error := snapshot.errors.get(k)) is not None
    ]
    out.reused = len(out.configs)
    return out
