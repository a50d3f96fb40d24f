"""What a row is judged by beyond its own JSON: its platform's policy and the other platforms.

:func:`factory.models.parse_config` applies these with everything else, so every path from
outside data to a config (parse time, ecosystem files, changesets, the editor, migrations)
judges a row the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from factory.collisions import dag_id_problems
from factory.errors import ConfigProblem

if TYPE_CHECKING:
    from factory.models import StreamConfig
    from factory.policy import PlatformPolicy


@dataclass(frozen=True)
class Rules:
    """A platform's policy, and the other platforms (for dag_ids that would reach into another
    platform's names)."""

    platform: str
    policy: PlatformPolicy | None = None
    platforms: tuple[str, ...] = ()

    @classmethod
    def of(cls, policy: PlatformPolicy) -> Rules:
        """The rules of ``policy``'s platform, with no other platform known."""
        return cls(policy.platform, policy)

    def problems(self, config: StreamConfig, key: str) -> list[ConfigProblem]:
        found = self.policy.problems(config) if self.policy is not None else []
        return found + dag_id_problems(self.platform, key, self.platforms)
