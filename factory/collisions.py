"""dag_ids that would collide, within or across platforms.

A dag_id is ``{platform}__{stream_key}_ingestion``. Platform names and stream keys may both hold
``__``, so platform ``a`` with stream ``b__c`` and platform ``a__b`` with stream ``c`` both give
``a__b__c_ingestion``: two factory files would define one DAG, and whichever Airflow parsed last
would replace the other's. Within one platform, keys are the table's primary key and the
mapping is one-to-one, so only a second call into the same module (or a name already taken
there) can collide; the loader refuses that too.

The rule that settles a cross-platform clash without reading other tables: a dag_id belongs to
the platform with the *longest* name it starts with. So a stream whose key contains ``__`` is
refused when ``{platform}__{key}`` starts with another platform's ``{name}__``. ``config
validate`` and ``bootstrap --check`` report every such clash; the loader refuses the row.
Airflow also limits a dag_id to 250 characters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from factory.errors import ConfigProblem
from factory.names import dag_id_for

MAX_DAG_ID = 250


def shadowed_by(platform: str, stream_key: str, platforms: Iterable[str]) -> str | None:
    """The other platform whose dag_id namespace ``stream_key`` of ``platform`` reaches into."""
    if "__" not in stream_key:
        return None
    full = f"{platform}__{stream_key}"
    longer = [p for p in platforms if p != platform and len(p) > len(platform) and full.startswith(f"{p}__")]
    return max(longer, key=len) if longer else None


def dag_id_problems(platform: str, stream_key: str, platforms: Iterable[str] = ()) -> list[ConfigProblem]:
    """Why this row's dag_id is unusable: too long for Airflow, or in another platform's namespace."""
    found: list[ConfigProblem] = []
    dag_id = dag_id_for(platform, stream_key)
    if len(dag_id) > MAX_DAG_ID:
        found.append(
            ConfigProblem("$.stream_key", f"the dag_id would be {len(dag_id)} characters; Airflow allows {MAX_DAG_ID}")
        )
    other = shadowed_by(platform, stream_key, platforms)
    if other is not None:
        found.append(
            ConfigProblem(
                "$.stream_key",
                f"dag_id {dag_id} falls in platform {other}'s names ({other}__...): it would collide with "
                f"that platform's stream {dag_id[len(other) + 2 : -len('_ingestion')]!r}; rename the stream",
            )
        )
    return found


@dataclass(frozen=True)
class Collision:
    """Streams (platform, key) that would all define ``dag_id``."""

    dag_id: str
    streams: tuple[tuple[str, str], ...]

    def __str__(self) -> str:
        who = ", ".join(f"{p}/{k}" for p, k in self.streams)
        return f"dag_id {self.dag_id} is defined by {len(self.streams)} streams: {who}"


def find_collisions(streams: Iterable[tuple[str, str]]) -> list[Collision]:
    """Groups of (platform slug, stream key) that give the same dag_id, sorted."""
    by_dag: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for platform, key in streams:
        try:
            by_dag[dag_id_for(platform, key)].add((platform, key))
        except ValueError:
            continue  # an invalid key is reported by validation
    return [Collision(d, tuple(sorted(s))) for d, s in sorted(by_dag.items()) if len(s) > 1]


def stream_problems(streams: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[ConfigProblem]]:
    """Every dag_id problem of a set of streams across platforms, per (platform, key)."""
    pairs = sorted(set(streams))
    platforms = sorted({p for p, _ in pairs})
    found: dict[tuple[str, str], list[ConfigProblem]] = defaultdict(list)
    for platform, key in pairs:
        try:
            problems = dag_id_problems(platform, key, platforms)
        except ValueError:
            continue
        found[(platform, key)] += problems
    for collision in find_collisions(pairs):
        for member in collision.streams:
            others = ", ".join(f"{p}/{k}" for p, k in collision.streams if (p, k) != member)
            problem = ConfigProblem("$.stream_key", f"dag_id {collision.dag_id} collides with {others}")
            if problem not in found[member]:
                found[member].append(problem)
    return {k: v for k, v in found.items() if v}
