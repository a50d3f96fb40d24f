"""What a platform's rows may use: a row stays inside its platform.

A platform's policy lists the Kubernetes namespaces its jobs may run in, the image repositories
its job image may come from, and the secret names (or name prefixes) its rows may mount; a row
must also name this platform in ``platform_name``. A row that steps outside is refused with a
problem at the field's JSON path.

Where it is set: the ``policy:`` section of each platform in the ecosystem file; any part left
out defaults to what the platform itself uses (its namespace, its job image's repository, the
secret names its own section lists), so existing ecosystems keep validating unchanged.

Where it lives: ``bootstrap`` writes it to the side table ``{platform}_airflow_dsg_policy`` (one
row, JSON) in the same transaction as the rows. The loader reads it with the rows at parse time,
and ``config validate``, ``errors`` and the dashboard read it with the rows they show, so all of
them judge a row alike without the ecosystem file. A platform without that table (created before
policies, or by hand) gets only the platform-name rule.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from factory.errors import ConfigProblem
from factory.job_contract import DEFAULT_JOB_SETTINGS, JobSettings
from factory.names import platform_slug

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from factory.models import StreamConfig

SECRET_FIELDS = (
    "postgres_credential_secret_name",
    "git_credential_secret_name",
    "slack_credential_secret_name",
    "source_credential_secret_name",
    "kafka_connect_credential_secret_name",
)


def image_repository(image: str) -> str:
    """``registry:5000/team/job:1.2@sha256:...`` -> ``registry:5000/team/job``."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


@dataclass(frozen=True)
class PlatformPolicy:
    """``None`` for a list means "not constrained"; ``platform`` (a slug) is always enforced."""

    platform: str
    namespaces: tuple[str, ...] | None = None
    image_repositories: tuple[str, ...] | None = None
    secret_names: tuple[str, ...] | None = None
    secret_prefixes: tuple[str, ...] = ()
    #: How the platform's job is run (argument values, secret key names, where its result comes
    #: from): kept here so the factory, the static files and the dashboard build alike.
    job: JobSettings = DEFAULT_JOB_SETTINGS

    def allows_image(self, image: str) -> bool:
        if self.image_repositories is None:
            return True
        repo = image_repository(image)
        return any(repo == r or (r.endswith("/") and repo.startswith(r)) for r in self.image_repositories)

    def allows_secret(self, name: str) -> bool:
        if self.secret_names is None and not self.secret_prefixes:
            return True
        return name in (self.secret_names or ()) or any(name.startswith(p) for p in self.secret_prefixes)

    def problems(self, config: StreamConfig) -> list[ConfigProblem]:
        """Every way ``config`` steps outside this platform, each at its field's path."""
        found: list[ConfigProblem] = []
        if config.platform_name.lower() != self.platform:
            found.append(
                ConfigProblem(
                    "$.platform_name",
                    f"is {_quoted(config.platform_name)} but the row is in platform {self.platform!r}",
                )
            )
        if self.namespaces is not None and config.namespace_name not in self.namespaces:
            found.append(
                ConfigProblem(
                    "$.namespace_name",
                    f"namespace {_quoted(config.namespace_name)} is outside platform {self.platform}'s policy "
                    f"(allowed: {', '.join(self.namespaces)})",
                )
            )
        if not self.allows_image(config.datasurface_docker_image):
            found.append(
                ConfigProblem(
                    "$.datasurface_docker_image",
                    f"image repository {_quoted(image_repository(config.datasurface_docker_image))} is outside platform "
                    f"{self.platform}'s policy (allowed: {', '.join(self.image_repositories or ())})",
                )
            )
        for name in SECRET_FIELDS:
            secret = getattr(config, name)
            if secret is not None and not self.allows_secret(secret):
                found.append(
                    ConfigProblem(
                        f"$.{name}",
                        f"secret {_quoted(secret)} is not one of platform {self.platform}'s secrets (see its policy)",
                    )
                )
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "namespaces": list(self.namespaces) if self.namespaces is not None else None,
            "image_repositories": list(self.image_repositories) if self.image_repositories is not None else None,
            "secret_names": list(self.secret_names) if self.secret_names is not None else None,
            "secret_prefixes": list(self.secret_prefixes),
            "job": self.job.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @classmethod
    def from_json(cls, platform: str, text: str) -> PlatformPolicy:
        """A stored policy; anything unreadable gives the strictest usable answer: platform rule only
        plus empty allow-lists (every namespace, image and secret refused), never "anything goes"."""
        slug = platform_slug(platform)
        try:
            data = json.loads(text)

            def strings(key: str) -> tuple[str, ...] | None:
                value = data.get(key)
                if value is None:
                    return None
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError(key)
                return tuple(value)

            job = data.get("job")
            return cls(
                slug,
                strings("namespaces"),
                strings("image_repositories"),
                strings("secret_names"),
                strings("secret_prefixes") or (),
                JobSettings.model_validate(job) if job is not None else DEFAULT_JOB_SETTINGS,
            )
        except (ValueError, TypeError, AttributeError):  # pydantic's ValidationError is a ValueError
            return cls(slug, (), (), (), ())


def write_policy(conn: Connection, policy: PlatformPolicy) -> None:
    """Create the side table if needed and store ``policy`` (inside the caller's transaction)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    from factory.tables import policy_table

    table = policy_table(policy.platform)
    table.create(conn, checkfirst=True)
    stmt = pg_insert(table).values(
        id=1, policy_json=policy.to_json(), updated_at=datetime.now(UTC).replace(tzinfo=None)
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={"policy_json": stmt.excluded.policy_json, "updated_at": stmt.excluded.updated_at},
        )
    )


def _quoted(value: str) -> str:
    """A row's value quoted back in a problem, unless it looks like a credential: these fields
    are free text, and a token pasted into one must not reach a log or a screen through the
    message that refuses it (:func:`factory.credentials.credential_kind` names what it seems)."""
    from factory.credentials import credential_kind
    from factory.redact import redact_text

    kind = credential_kind(value)
    return f"a value holding {kind} (not shown)" if kind else redact_text(repr(value))


def read_policy(conn: Connection, platform: str) -> PlatformPolicy | None:
    """The stored policy, or None when the platform has no policy table (platform rule only)."""
    from sqlalchemy import select

    from factory.tables import policy_table, table_exists

    table = policy_table(platform)
    exists = table_exists(conn, table.name)
    if not exists:
        return None
    stored = conn.execute(select(table.c.policy_json).where(table.c.id == 1)).scalar_one_or_none()
    return PlatformPolicy.from_json(platform, stored) if stored is not None else None


def effective_policy(platform: str, stored: PlatformPolicy | None) -> PlatformPolicy:
    """The policy rows are judged by: the stored one, else the platform-name rule alone."""
    return stored if stored is not None else PlatformPolicy(platform_slug(platform))
