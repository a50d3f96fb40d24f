"""Bootstrap: ecosystem file -> tables, rows and DAG files, all or nothing.

Everything is validated before anything is written. Then every platform's tables and rows are
written in one database transaction (PostgreSQL DDL is transactional), and the DAG files are
written only after it commits, each atomically, so a failed bootstrap leaves no partial state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factory.db import DEFAULT_CONN_ID, get_engine
from factory.ecosystem import Ecosystem, platform_policy, platform_streams
from factory.files import write_atomic
from factory.models import StreamConfig
from factory.names import platform_slug
from factory.policy import write_policy
from factory.render import factory_file_name, render_factory_file, render_static_file, static_file_name
from factory.spec import dag_spec


@dataclass
class PlatformBootstrap:
    platform: str
    table_created: bool = False
    summary: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "table_created": self.table_created,
            "rows": self.summary,
            "files": self.files,
            "removed_files": self.removed_files,
        }


def planned_files(
    eco: Ecosystem, configs_by_slug: dict[str, list[StreamConfig]], *, static: bool, conn_id: str
) -> dict[str, dict[str, str]]:
    """File name -> source, per platform slug. Rendering happens before any write."""
    files: dict[str, dict[str, str]] = {}
    for platform in eco.platforms:
        slug = platform_slug(platform.name)
        configs = configs_by_slug[slug]
        if static:
            files[slug] = {static_file_name(slug, c.stream_key): render_static_file(dag_spec(c, slug)) for c in configs}
        else:
            files[slug] = {factory_file_name(slug): render_factory_file(platform.name, conn_id)}
    return files


def bootstrap(
    eco: Ecosystem,
    db_url: str,
    dags_folder: Path | None,
    *,
    static: bool = False,
    conn_id: str = DEFAULT_CONN_ID,
    actor: str | None = None,
) -> list[PlatformBootstrap]:
    """Create tables, upsert rows and render DAG files for every platform of ``eco``.

    ``eco`` must come from :func:`factory.ecosystem.parse_ecosystem` (already validated).
    """
    from factory import store

    configs_by_slug = {platform_slug(p.name): platform_streams(p)[0] for p in eco.platforms}
    files = planned_files(eco, configs_by_slug, static=static, conn_id=conn_id) if dags_folder is not None else {}
    if dags_folder is not None:
        dags_folder.mkdir(parents=True, exist_ok=True)
        probe = dags_folder / ".yellow-write-probe"
        probe.write_text("")  # fail now, before the transaction, if the folder is not writable
        probe.unlink()
    results: list[PlatformBootstrap] = []
    with get_engine(db_url).begin() as conn:
        for platform in eco.platforms:
            slug = platform_slug(platform.name)
            configs = configs_by_slug[slug]
            outcome = PlatformBootstrap(platform=slug)
            outcome.table_created = store.ensure_tables(conn, slug)
            write_policy(conn, platform_policy(platform))
            summary = store.apply_rows(conn, slug, [(c.stream_key, c.to_json()) for c in configs], actor=actor)
            outcome.summary = summary.to_dict()
            results.append(outcome)
    if dags_folder is not None:
        for outcome in results:
            for name, text in files[outcome.platform].items():
                write_atomic(dags_folder / name, text)
                outcome.files.append(name)
            if static:
                for key in outcome.summary.get("retired", []):
                    stale = dags_folder / static_file_name(outcome.platform, key)
                    if stale.exists():
                        stale.unlink()
                        outcome.removed_files.append(stale.name)
    return results
