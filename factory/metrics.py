"""Parse metrics through Airflow's own metrics facility (statsd, Datadog's statsd, OpenTelemetry).

After each full parse the loader calls :func:`emit_parse_metrics`. Whether a metrics backend is
configured (``[metrics] statsd_on``, ``statsd_datadog_enabled`` or ``otel_on``, e.g.
``AIRFLOW__METRICS__STATSD_ON=True``) is read once per process; when none is, emitting costs a
cached lookup. Airflow's backend applies its own settings: ``statsd_host``/``statsd_port``, the
``statsd_prefix`` (``airflow`` by default, so ``yellow.…`` arrives as ``airflow.yellow.…``),
allow and block lists. Best effort: a metrics problem is logged at debug level, never raised.

Names (``{platform}`` is the platform's slug, e.g. ``yellowlive``; docs/operations.md lists them):

=====================================  =======  ==================================================
``yellow.{platform}.parse.load_ms``     timer    reading the source (fingerprint, rows or snapshot)
``yellow.{platform}.parse.validate_ms`` timer    validating the rows
``yellow.{platform}.parse.build_ms``    timer    building the DAGs
``yellow.{platform}.parse.total_ms``    timer    the whole load
``yellow.{platform}.streams.built``     gauge    DAGs built by this parse
``yellow.{platform}.streams.failed``    gauge    streams with no DAG (outcome error)
``yellow.{platform}.streams.stale``     gauge    streams built from their last good config
``yellow.{platform}.streams.skipped``   gauge    streams left to a static file (migration)
``yellow.{platform}.parses``            counter  one per full parse
``yellow.{platform}.snapshot_used``     counter  one per parse that built from the snapshot
=====================================  =======  ==================================================

A platform split over several factory files (factory.split) sends the same names per file:
``yellow.{platform}.file{i}.…``.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING, Any

from factory.enums import Outcome

if TYPE_CHECKING:
    from factory.outcome import LoadResult

log = logging.getLogger("yellow.factory")

PREFIX = "yellow"
#: Airflow's ``[metrics]`` switches, any of which turns a backend on.
BACKEND_SWITCHES = ("statsd_on", "statsd_datadog_enabled", "otel_on")


@cache
def _stats() -> Any:
    """Airflow's stats module, initialized with the configured backend; None when no backend is
    configured or Airflow's metrics cannot be loaded. Decided once per process."""
    try:
        from airflow.sdk.configuration import conf

        if not any(conf.getboolean("metrics", name, fallback=False) for name in BACKEND_SWITCHES):
            return None
        from airflow.sdk.observability import stats
        from airflow.sdk.observability.metrics import stats_utils

        stats.initialize(
            factory=stats_utils.get_stats_factory(),
            export_legacy_names=conf.getboolean("metrics", "legacy_names_on", fallback=False),
        )
        return stats
    except Exception as exc:
        log.debug("parse metrics are off: Airflow's metrics could not be loaded: %s", exc)
        return None


def reset_metrics() -> None:
    """Read Airflow's metrics configuration again at the next emit (tests)."""
    _stats.cache_clear()


def metric_values(result: LoadResult) -> dict[str, tuple[str, float]]:
    """Every metric of one parse: name -> (kind, value); kind is timer, gauge or counter."""
    # A split platform's files each send their own (a gauge per platform would keep only the
    # last file's value): ``yellow.{platform}.file{i}.…``.
    base = f"{PREFIX}.{result.platform}" + (f".file{result.file_index}" if result.split else "")
    counts = dict.fromkeys(Outcome, 0)
    for o in result.outcomes:
        counts[o.outcome] += 1
    values: dict[str, tuple[str, float]] = {
        f"{base}.parse.load_ms": ("timer", result.load_ms),
        f"{base}.parse.validate_ms": ("timer", result.validate_ms),
        f"{base}.parse.build_ms": ("timer", result.build_ms),
        f"{base}.parse.total_ms": ("timer", result.total_ms),
        f"{base}.streams.built": ("gauge", float(len(result.dags))),
        f"{base}.streams.failed": ("gauge", float(counts[Outcome.ERROR])),
        f"{base}.streams.stale": ("gauge", float(counts[Outcome.STALE])),
        f"{base}.streams.skipped": ("gauge", float(counts[Outcome.SKIPPED])),
        f"{base}.parses": ("counter", 1.0),
    }
    if result.used_snapshot:
        values[f"{base}.snapshot_used"] = ("counter", 1.0)
    return values


def emit_parse_metrics(result: LoadResult) -> bool:
    """Send one parse's metrics to Airflow's metrics backend. Returns False when none is
    configured or sending failed (never raises)."""
    stats = _stats()
    if stats is None:
        return False
    try:
        for name, (kind, value) in metric_values(result).items():
            if kind == "timer":
                stats.timing(name, value)
            elif kind == "gauge":
                stats.gauge(name, int(value))  # counts of streams
            else:
                stats.incr(name, int(value))
        return True
    except Exception as exc:
        log.debug("platform %s: parse metrics not sent: %s", result.platform, exc)
        return False
