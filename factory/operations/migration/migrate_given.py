"""The fields a static file does not carry, from ``--ecosystem FILE`` or explicit flags.

A static DAG holds what the job receives, not everything a row holds: since the job reads its
merge database from the model, no generation of static file names the postgres host, port or
database, and DataSurface's July 2025 files also leave out the ingestion type and (for a
multi-dataset stream) the datasets. Such a field comes from the flags, else from the ecosystem
file's platform, and is never guessed: a field found nowhere is a per-file reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from factory.job_contract import JobSettings
    from factory.operations.provisioning.ecosystem import PlatformSpec

#: The flags ``migrate extract`` offers, by the row field each fills.
FLAGS = {
    "postgres_hostname": "--postgres-host",
    "postgres_port": "--postgres-port",
    "postgres_database": "--postgres-database",
    "git_repo_url": "--git-repo-url",
    "git_repo_branch": "--git-repo-branch",
    "ingestion_type": "--ingestion-type",
}
#: Where a field came from, as the extract output says it.
FROM_FILE = "file"
FROM_ECOSYSTEM = "ecosystem"


class MissingField(ValueError):
    """A field the file does not carry and nothing given supplies."""


@dataclass
class Given:
    """Values given for fields the files lack: flags first, then the ecosystem file's platform."""

    flags: dict[str, Any] = field(default_factory=dict)
    platform: PlatformSpec | None = None
    ecosystem_source: str | None = None

    def lookup(self, name: str, stream_key: str) -> tuple[Any, str] | None:
        """``(value, where from)`` for the row field ``name``, or None when nothing gives it."""
        if self.flags.get(name) is not None:
            return self.flags[name], FLAGS[name]
        if self.platform is None:
            return None
        from factory.operations.provisioning.ecosystem import stream_payloads

        for payload in stream_payloads(self.platform):
            if payload["stream_key"] == stream_key and name in payload:
                return payload[name], FROM_ECOSYSTEM
        return None

    def require(self, name: str, stream_key: str, why: str) -> tuple[Any, str]:
        found = self.lookup(name, stream_key)
        if found is None:
            hint = f"{FLAGS[name]} or --ecosystem FILE" if name in FLAGS else "--ecosystem FILE (its store)"
            raise MissingField(f"{why}: {name} is not in the file; pass {hint}")
        return found

    @property
    def job(self) -> JobSettings | None:
        """The ecosystem platform's ``job:`` settings, when an ecosystem file was given."""
        return self.platform.job if self.platform is not None else None


def given_from(ecosystem: str | None, platform_slug: str, flags: dict[str, Any]) -> Given:
    """Read ``--ecosystem FILE`` (its platform whose table name is ``platform_slug``) and the flags."""
    from factory.errors import EcosystemError
    from factory.names import platform_slug as slug_of
    from factory.operations.provisioning.ecosystem import load_ecosystem

    given = Given(flags={k: v for k, v in flags.items() if v is not None})
    if ecosystem is None:
        return given
    eco = load_ecosystem(ecosystem)
    matches = [p for p in eco.platforms if slug_of(p.name) == platform_slug]
    if not matches:
        raise EcosystemError(ecosystem, [f"no platform named {platform_slug} (case-insensitive) in the file"])
    given.platform, given.ecosystem_source = matches[0], ecosystem
    return given
