"""The ``yellowtui`` command line: one module per command group, all registered here, one way.

:data:`main` (``yellowtui.cli.root``) is the console script's entry point and the root group;
each module's ``COMMANDS`` are added to it in the loop below, nothing is patched afterwards.
What every command shares (exit codes, the one error path, ``--db``, common options) is in
:mod:`yellowtui.cli.core`; everything printed goes through :mod:`yellowtui.cli.output`.
"""

from __future__ import annotations

from yellowtui.cli import (
    airflow,
    bootstrap,
    changes,
    config,
    demo,
    grants,
    health,
    live,
    migrate,
    platform,
    reports,
)
from yellowtui.cli.root import main

for _module in (bootstrap, config, changes, live, reports, grants, migrate, health, platform, airflow, demo):
    for _command in _module.COMMANDS:
        main.add_command(_command)

__all__ = ["main"]
