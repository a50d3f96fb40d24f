"""What differs between two JSON values, at JSON paths: the one diff every view reads.

A plan's config diff (``$.datasets[1]: "a" -> "b"``), a conflict's "theirs/yours", the DAG
diff's arguments (flattened first, see :mod:`factory.dag_diff`) and the change history's list
of fields all come from :func:`json_diff`, so they agree on what "changed" means. Plain
standard library: the dashboard imports it too, and so may the runtime.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


#: Stands for a member one side does not have (None is a value JSON can hold).
MISSING: Any = _Missing()


@dataclass(frozen=True)
class JsonChange:
    """One value that differs, at its JSON path (``$.datasets[1]``); a missing side is None."""

    path: str
    old: Any
    new: Any
    kind: str  # "added", "removed" or "changed"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "old": self.old, "new": self.new}

    @property
    def old_or_missing(self) -> Any:
        """The old value, or :data:`MISSING` when the member was added."""
        return MISSING if self.kind == "added" else self.old

    @property
    def new_or_missing(self) -> Any:
        """The new value, or :data:`MISSING` when the member was removed."""
        return MISSING if self.kind == "removed" else self.new


def json_diff(
    old: Any, new: Any, path: str = "$", *, depth: int | None = None, exact_types: bool = True
) -> list[JsonChange]:
    """Field by field: objects by key (sorted), lists by index, anything else as a value.

    ``depth`` stops the descent (``1``: an object's members are compared whole); ``path`` ``""``
    names the members bare (``key``, not ``.key``); ``exact_types`` tells ``1`` from ``1.0`` and
    ``True`` from ``1``, where plain ``==`` would not.
    """
    if depth is None or depth > 0:
        below = None if depth is None else depth - 1
        if isinstance(old, dict) and isinstance(new, dict):
            return _members(old, new, sorted(set(old) | set(new)), path, below, exact_types)
        if isinstance(old, list) and isinstance(new, list):
            return _members(old, new, range(max(len(old), len(new))), path, below, exact_types)
    if old == new and (type(old) is type(new) or not exact_types):
        return []
    return [JsonChange(path, old, new, "changed")]


def _members(
    old: Any, new: Any, keys: Iterable[Any], path: str, depth: int | None, exact_types: bool
) -> list[JsonChange]:
    """The members of two objects (keys) or two lists (indexes), each added, removed or diffed."""
    found: list[JsonChange] = []
    is_list = isinstance(old, list)
    for key in keys:
        sub = f"{path}[{key}]" if is_list else (f"{path}.{key}" if path else str(key))
        has_old = key < len(old) if is_list else key in old
        has_new = key < len(new) if is_list else key in new
        if not has_old:
            found.append(JsonChange(sub, None, new[key], "added"))
        elif not has_new:
            found.append(JsonChange(sub, old[key], None, "removed"))
        else:
            found += json_diff(old[key], new[key], sub, depth=depth, exact_types=exact_types)
    return found


__all__ = ["MISSING", "JsonChange", "json_diff"]
