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
    profiles,
    reports,
)
from yellowtui.cli.root import main
from yellowtui.completion import install_completers

for _module in (bootstrap, config, changes, live, reports, grants, migrate, health, platform, airflow, demo, profiles):
    for _command in _module.COMMANDS:
        main.add_command(_command)

# Completion of platform names and stream keys from the profile's database: the one step that
# reaches into every command, so it runs once every command is registered.
install_completers(main)

__all__ = ["main"]
