"""Synthetic ecosystems of any size, and broken rows to inject into them.

The factory has to be exercised at sizes and with mixes no hand-written example covers: many
platforms, thousands of stores, single- and multi-dataset stores, every ingestion type, cron and
preset schedules, some job resources, and a few rows that are wrong in the ways people really
get them wrong. Everything is driven by one seed, so a run is reproducible.

    python -m simulators.ecosystem --platforms 2 --streams 500 --bad 3 --seed 1 -o eco.yaml
    python -m simulators.ecosystem --streams 10000 --db postgresql://postgres@/yellow?host=/tmp
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from factory.models import INGESTION_TYPES, JobResources, canonical_json
from factory.names import platform_slug
from factory.operations.provisioning.ecosystem import (
    Ecosystem,
    PlatformSpec,
    StoreSpec,
    parse_ecosystem,
    stream_payloads,
)

FIRST_PLATFORMS = ("YellowLive", "YellowForensic")
BAD_PREFIX = "Broken"

_DOMAINS = (
    "Orders",
    "Customers",
    "Payments",
    "Inventory",
    "Billing",
    "Shipping",
    "Crm",
    "Ledger",
    "Hr",
    "Marketing",
    "Pricing",
    "Catalog",
    "Fraud",
    "Risk",
    "Claims",
    "Policies",
    "Loans",
    "Cards",
    "Treasury",
    "Trades",
    "Positions",
    "Market",
    "Support",
    "Web",
    "Mobile",
    "Iot",
    "Fleet",
    "Warehouse",
    "Supplier",
    "Procurement",
    "Payroll",
    "Audit",
    "Compliance",
    "Reference",
)
_DATASETS = (
    "customers",
    "addresses",
    "orders",
    "order_lines",
    "returns",
    "invoices",
    "payments",
    "refunds",
    "products",
    "prices",
    "stock_levels",
    "shipments",
    "carriers",
    "accounts",
    "transactions",
    "balances",
    "events",
    "sessions",
    "page_views",
    "devices",
    "readings",
    "employees",
    "departments",
    "contracts",
    "claims",
    "policies",
    "quotes",
    "trades",
    "positions",
    "instruments",
    "counterparties",
    "tickets",
    "agents",
    "campaigns",
    "leads",
    "suppliers",
    "purchase_orders",
    "ledger_entries",
    "fx_rates",
    "audit_log",
)
#: (schedule, weight); None means "the platform's default schedule".
_SCHEDULES = (
    (None, 30),
    ("@hourly", 10),
    ("@daily", 10),
    ("@weekly", 2),
    ("@monthly", 1),
    ("*/5 * * * *", 6),
    ("*/15 * * * *", 8),
    ("*/30 * * * *", 5),
    ("0 */6 * * *", 5),
    ("30 2 * * *", 5),
    ("0 6 * * 1-5", 4),
    ("15 */2 * * *", 3),
    ("0 0 1 * *", 1),
)
_KNOWN_WEIGHTS = {"sql_source": 80, "kafka": 20}
#: Every type the model allows appears, including any added after this file was written.
_INGESTION_WEIGHTS = {t: _KNOWN_WEIGHTS.get(t, 5) for t in INGESTION_TYPES}
_RESOURCES = (
    {"cpu_request": "250m", "memory_request": "256Mi"},
    {"cpu_request": "500m", "cpu_limit": "2", "memory_request": "512Mi", "memory_limit": "2Gi"},
    {"cpu_request": "1", "cpu_limit": "4", "memory_request": "2Gi", "memory_limit": "8Gi"},
    {"memory_limit": "1Gi"},
)
_DEFAULT_SCHEDULES = ("@hourly", "@daily", "*/30 * * * *")


def platform_name(index: int) -> str:
    """``YellowLive``, ``YellowForensic``, then ``Yellow3``, ``Yellow4``... (index from 0)."""
    return FIRST_PLATFORMS[index] if index < len(FIRST_PLATFORMS) else f"Yellow{index + 1}"


def _kebab(name: str) -> str:
    """``YellowForensic`` -> ``yellow-forensic``: a valid Kubernetes name."""
    out = "".join(f"-{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))
    return out.replace("_", "-")


def platform_spec(name: str, index: int = 0, stores: list[StoreSpec] | None = None) -> PlatformSpec:
    """The platform-level settings of a generated platform (deterministic from its name)."""
    kebab = _kebab(name)
    return PlatformSpec(
        name=name,
        namespace=kebab,
        job_image=f"datasurface/datasurface:v1.{index % 3}.{index % 7}",
        postgres_hostname=f"pg-{kebab}.yellow.svc.cluster.local",
        postgres_database=f"datasurface_{platform_slug(name)}",
        postgres_port=5432,
        postgres_credential_secret=f"{kebab}-postgres-creds",
        git_repo_url="https://github.com/yellowdataplatform/ecosystem-model",
        git_repo_branch="main" if index % 2 == 0 else f"release/{kebab}",
        git_credential_secret="git-creds",
        slack_credential_secret=f"{kebab}-slack-creds" if index % 2 == 0 else None,
        kafka_connect_credential_secret=f"{kebab}-connect-creds",
        default_schedule=_DEFAULT_SCHEDULES[index % len(_DEFAULT_SCHEDULES)],
        stores=stores or [],
    )


def _weighted(rng: random.Random, pairs: dict[Any, int] | tuple[tuple[Any, int], ...]) -> Any:
    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    return rng.choices([v for v, _ in items], weights=[w for _, w in items], k=1)[0]


def _stores(rng: random.Random, streams: int) -> list[StoreSpec]:
    """Stores that make exactly ``streams`` streams: a multi-dataset store makes one, a
    single-dataset store makes one per dataset."""
    stores: list[StoreSpec] = []
    remaining = streams
    while remaining > 0:
        number = len(stores) + 1
        name = f"{rng.choice(_DOMAINS)}{number:05d}"  # no '_': cannot collide with store_dataset keys
        single = rng.random() < 0.3
        size = min(remaining, rng.randint(1, 6)) if single else rng.randint(1, 8)
        ingestion = _weighted(rng, _INGESTION_WEIGHTS)
        stores.append(
            StoreSpec(
                name=name,
                datasets=rng.sample(_DATASETS, size),
                single_dataset=single,
                ingestion_type=ingestion,
                schedule=_weighted(rng, _SCHEDULES),
                source_credential_secret=f"{name.lower()}-source-creds" if ingestion == "sql_source" else None,
                job_resources=JobResources(**rng.choice(_RESOURCES)) if rng.random() < 0.15 else None,
            )
        )
        remaining -= size if single else 1
    return stores


def generate_ecosystem(platforms: int = 2, streams_per_platform: int = 250, seed: int = 0) -> Ecosystem:
    """A validated ecosystem with exactly ``streams_per_platform`` streams on each platform.

    The same arguments always give the same ecosystem.
    """
    if platforms < 1:
        raise ValueError("platforms must be at least 1")
    if streams_per_platform < 0:
        raise ValueError("streams_per_platform must not be negative")
    rng = random.Random(f"yellow-ecosystem:{seed}")
    specs = [platform_spec(platform_name(i), i, _stores(rng, streams_per_platform)) for i in range(platforms)]
    data = Ecosystem(name=f"synthetic-{platforms}x{streams_per_platform}-seed{seed}", platforms=specs)
    return parse_ecosystem(data.model_dump(), source="generated ecosystem")


# ---- broken rows ---------------------------------------------------------------------------


def _platform_index(name: str) -> int:
    """The inverse of :func:`platform_name` (0 for a name it does not produce)."""
    if name in FIRST_PLATFORMS:
        return FIRST_PLATFORMS.index(name)
    suffix = name.removeprefix("Yellow")
    return int(suffix) - 1 if suffix.isdigit() and int(suffix) > 0 else 0


def _base_payload(platform: str, key: str) -> dict[str, Any]:
    """A valid payload for ``platform`` keyed ``key``, to be broken in one specific way."""
    spec = platform_spec(platform, _platform_index(platform))
    store = StoreSpec(
        name=key,
        datasets=["customers", "addresses"],
        ingestion_type="sql_source",
        source_credential_secret="broken-source-creds",
    )
    return stream_payloads(spec.model_copy(update={"stores": [store]}))[0]


def _set(field: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda p: {**p, field: value}


def _drop(field: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda p: {k: v for k, v in p.items() if k != field}


def _rename(old: str, new: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda p: {(new if k == old else k): v for k, v in p.items()}


#: (short name used in the stream key, how the payload is broken). Each is a mistake people make.
_BREAKAGES: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("cron", _set("schedule", "61 * * * *")),
    ("typo", _rename("schedule", "schedul")),
    ("image", _set("datasurface_docker_image", "Datasurface/Datasurface::latest")),
    ("port", _set("postgres_port", 70000)),
    ("namespace", lambda p: {**p, "namespace_name": p["namespace_name"].title()}),
    ("notjson", lambda p: json.dumps(p)[:-40]),
    ("datasets", _set("datasets", "customers,addresses")),
    ("missing", _drop("git_repo_url")),
    ("single", lambda p: {**p, "single_dataset": True}),
    ("ingestion", _set("ingestion_type", "sql_watermark")),
    ("secret", _set("postgres_credential_secret_name", "Postgres_Creds")),
    ("preset", _set("schedule", "@fortnightly")),
    ("array", lambda p: [p]),
    ("gitref", _set("git_repo_url", "ftp://example.com/repo.git")),
    ("resources", _set("job_resources", {"cpu_request": "lots"})),
)
BREAKAGE_KINDS = tuple(name for name, _ in _BREAKAGES)


def bad_rows(platform: str, count: int, seed: int = 0) -> list[tuple[str, str]]:
    """``count`` (stream_key, config_json) rows for ``platform``, each invalid in one realistic way.

    Keys start with ``Broken`` so they never collide with generated streams; the kinds cycle
    through :data:`BREAKAGE_KINDS` in a seeded order, so small counts still differ.
    """
    rng = random.Random(f"yellow-bad:{platform}:{seed}")
    order = list(_BREAKAGES)
    rng.shuffle(order)
    rows = []
    for i in range(count):
        kind, breakage = order[i % len(order)]
        key = f"{BAD_PREFIX}{i + 1:04d}_{kind}"
        broken = breakage(_base_payload(platform, key))
        rows.append((key, broken if isinstance(broken, str) else canonical_json(broken)))
    return rows


# ---- seeding a database -------------------------------------------------------------------


def seed_database(
    db_url: str, eco: Ecosystem, bad: int = 0, seed: int = 0, dags_folder: Path | None = None, *, files: int = 1
) -> dict:
    """Bootstrap ``eco`` into ``db_url`` (tables, rows, optional factory files), then add
    ``bad`` broken active rows per platform, through the store so they are in history too.

    One factory file per platform unless ``files`` says otherwise: the demo, the dashboard's
    parse loop and the tests that parse "the factory file" mean that one file at any size.
    """
    from factory import store
    from factory.db import get_engine
    from factory.enums import RowStatus
    from factory.operations.provisioning.bootstrap import Split, bootstrap

    results = bootstrap(eco, db_url, Path(dags_folder) if dags_folder is not None else None, split=Split(files=files))
    broken: dict[str, list[str]] = {}
    if bad:
        with get_engine(db_url).begin() as conn:
            for platform in eco.platforms:
                slug = platform_slug(platform.name)
                rows = bad_rows(platform.name, bad, seed)
                for key, text in rows:
                    store.write_row(conn, slug, key, text, RowStatus.ACTIVE, actor="simulators.ecosystem")
                broken[slug] = [key for key, _ in rows]
    return {
        "platforms": {
            r.platform: {
                "streams": sum(len(v) for k, v in r.summary.items() if k != "retired"),
                "rows": {k: len(v) for k, v in r.summary.items()},
                "bad": broken.get(r.platform, []),
                "files": r.files,
            }
            for r in results
        }
    }


# ---- YAML ---------------------------------------------------------------------------------


def ecosystem_yaml(eco: Ecosystem) -> str:
    """The ecosystem as YAML that :func:`factory.operations.provisioning.ecosystem.load_ecosystem`
    reads back unchanged."""
    import yaml

    data = eco.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data.setdefault("name", eco.name)
    header = "# Generated by `python -m simulators.ecosystem`; edit freely or regenerate with the same seed.\n"
    return header + yaml.safe_dump(data, sort_keys=False, width=120)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.ecosystem",
        description="Generate a synthetic, reproducible Yellow ecosystem: write it as YAML and/or seed "
        "a config database with it (plus optional broken rows).",
        epilog="Examples:\n"
        "  python -m simulators.ecosystem --platforms 2 --streams 500 --bad 3 --seed 1 -o eco.yaml\n"
        "  python -m simulators.ecosystem --streams 10000 --db postgresql+psycopg2://postgres@/yellow?host=/tmp\n"
        "Broken rows cannot live in an ecosystem file (it must validate): with -o they are written\n"
        "next to it as <name>.bad.json; with --db they are inserted as active rows.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--platforms", type=int, default=2, help="number of platforms (default: 2)")
    parser.add_argument(
        "--streams", type=int, default=250, help="ingestion streams per platform, exactly (default: 250)"
    )
    parser.add_argument("--bad", type=int, default=0, help="broken rows to add per platform (default: 0)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; same seed, same ecosystem (default: 0)")
    parser.add_argument("-o", "--output", type=Path, help="write the ecosystem YAML here ('-' for stdout)")
    parser.add_argument("--db", metavar="URL", help="bootstrap this config database with the ecosystem")
    parser.add_argument("--dags-folder", type=Path, help="with --db: also render the factory files here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.output is None and args.db is None:
        _parser().error("nothing to do: pass -o FILE and/or --db URL")
    eco = generate_ecosystem(args.platforms, args.streams, args.seed)
    if args.output is not None:
        text = ecosystem_yaml(eco)
        if str(args.output) == "-":
            sys.stdout.write(text)
        else:
            args.output.write_text(text, encoding="utf-8")
            print(f"wrote {args.output}: {args.platforms} platform(s) x {args.streams} streams", file=sys.stderr)
            if args.bad and args.db is None:
                side = args.output.with_suffix(".bad.json")
                rows = {
                    platform_slug(p.name): [
                        {"stream_key": k, "config_json": t} for k, t in bad_rows(p.name, args.bad, args.seed)
                    ]
                    for p in eco.platforms
                }
                side.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
                print(f"wrote {side}: {args.bad} broken row(s) per platform", file=sys.stderr)
    if args.db is not None:
        from factory.db import redact

        summary = seed_database(args.db, eco, bad=args.bad, seed=args.seed, dags_folder=args.dags_folder)
        for slug, info in summary["platforms"].items():
            print(
                f"{redact(args.db)} {slug}: {info['streams']} streams ({info['rows']}), {len(info['bad'])} broken row(s)",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
