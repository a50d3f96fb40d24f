"""Least privilege for one platform's tables: the SQL that gives three roles what they need.

- **factory**: what the factory file running inside Airflow needs: read the rows and the policy,
  write its parse reports and build outcomes. It cannot change a row and cannot read or write
  the history.
- **operator**: change rows (``yellowtui apply``, ``config set``...), read everything else. It
  cannot write the history (the history trigger is ``SECURITY DEFINER``, owned by the owner),
  cannot truncate, cannot change the policy, and its ``yellow.actor`` claim is ignored: the
  history names its login user.
- **owner**: owns the tables and the trigger functions (``bootstrap`` runs as it); the only role
  that can alter, truncate or delete history. Members of the owner, superusers and members of
  the ``{platform}_trusted_writer`` role may name the actor of a change with ``yellow.actor``.

Role names are checked as plain SQL identifiers and double-quoted; nothing else is interpolated,
and table names come from the validated platform slug.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from factory.errors import InvalidNameError
from factory.names import platform_slug
from factory.store import trusted_writer_role
from factory.tables import LAYOUT_SUFFIX, POLICY_SUFFIX, platform_tables

#: A role name we print into SQL: PostgreSQL's unquoted identifier shape, at most 63 bytes.
ROLE_RE = re.compile(r"^[a-z_][a-z0-9_$]{0,62}$")


def role_name(name: str, what: str = "role") -> str:
    """``name`` double-quoted, after checking it is a plain identifier (lower case, no quotes)."""
    if not isinstance(name, str) or not ROLE_RE.fullmatch(name):
        raise InvalidNameError(
            f"{what} {name!r} is not a plain role name: use lower-case letters, digits and '_' "
            "(at most 63, not starting with a digit)"
        )
    return f'"{name}"'


@dataclass(frozen=True)
class Roles:
    factory: str
    operator: str
    owner: str

    @classmethod
    def defaults(cls, platform: str) -> Roles:
        slug = platform_slug(platform)
        return cls(f"{slug}_factory", f"{slug}_operator", f"{slug}_owner")


def grants_sql(platform: str, roles: Roles | None = None) -> str:
    """The SQL, to run as a superuser (or the tables' current owner) after ``bootstrap`` created
    the tables. The roles must exist; the SQL creates only the trusted-writer group role."""
    slug = platform_slug(platform)
    roles = roles or Roles.defaults(slug)
    factory = role_name(roles.factory, "factory role")
    operator = role_name(roles.operator, "operator role")
    owner = role_name(roles.owner, "owner role")
    if len({roles.factory, roles.operator, roles.owner}) != 3:
        raise InvalidNameError("the factory, operator and owner roles must be three different roles")
    t = platform_tables(slug)
    dsg, history, parses, builds = t.dsg.name, t.history.name, t.parses.name, t.builds.name
    policy = f"{slug}{POLICY_SUFFIX}"
    layout = f"{slug}{LAYOUT_SUFFIX}"
    trusted = trusted_writer_role(slug)
    tables = (dsg, history, parses, builds)
    sequences = (f"{history}_id_seq", f"{parses}_id_seq")
    functions = (f"{dsg}_record_history()", f"{dsg}_actor()")
    read_only_side_sql = {
        side: (
            f"ALTER TABLE {side} OWNER TO {owner}",
            f"REVOKE ALL ON TABLE {side} FROM PUBLIC, {factory}, {operator}",
            f"GRANT SELECT ON TABLE {side} TO {factory}, {operator}",
        )
        for side in (policy, layout)
    }
    lines = [
        f"-- Least privilege for platform {slug}: factory {factory}, operator {operator}, owner {owner}.",
        "-- Run as a superuser after `yellowtui bootstrap` created the tables. The three roles must exist.",
        "BEGIN;",
        "",
        "-- The owner owns the tables and the history trigger (SECURITY DEFINER): only it can alter,",
        "-- truncate or delete history; every other writer appends through the trigger.",
        *(f"ALTER TABLE {name} OWNER TO {owner};" for name in tables),
        *(f"ALTER FUNCTION {fn} OWNER TO {owner};" for fn in functions),
        *(f"REVOKE ALL ON TABLE {name} FROM PUBLIC, {factory}, {operator};" for name in tables),
        *(f"REVOKE ALL ON SEQUENCE {name} FROM PUBLIC, {factory}, {operator};" for name in sequences),
        *(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC;" for fn in functions),
        "",
        "-- Factory (the DAG file in Airflow): read rows and policy, write parse reports and build outcomes.",
        f"GRANT SELECT ON TABLE {dsg} TO {factory};",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {parses}, {builds} TO {factory};",
        f"GRANT USAGE, SELECT ON SEQUENCE {parses}_id_seq TO {factory};",
        "",
        "-- Operators: change rows; read history, reports and policy. No TRUNCATE, no history writes.",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {dsg} TO {operator};",
        f"GRANT SELECT ON TABLE {history}, {parses}, {builds} TO {operator};",
        "",
        "-- The policy and layout side tables (bootstrap writes them; only the owner changes them).",
        "DO $$ BEGIN",
        *(
            line
            for side, statements in read_only_side_sql.items()
            for line in (
                f"    IF to_regclass('{side}') IS NOT NULL THEN",
                *(f"        EXECUTE '{statement}';" for statement in statements),
                "    END IF;",
            )
        ),
        "END $$;",
        "",
        "-- Trusted writers may name the actor (SET LOCAL yellow.actor); everyone else is recorded as",
        f"-- their login user. Grant {trusted} to a service account that authenticates its users itself.",
        "DO $$ BEGIN",
        f"    IF to_regrole('{trusted}') IS NULL THEN CREATE ROLE {trusted} NOLOGIN; END IF;",
        "END $$;",
        "",
        "COMMIT;",
    ]
    return "\n".join(lines) + "\n"
