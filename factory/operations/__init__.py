"""What an operator runs: provisioning, staged changes, migration and inspection.

Nothing here runs when Airflow parses a factory file or starts a task: those import
:mod:`factory.loader` and :mod:`factory.tasks`, which never reach this package (an import-linter
contract in ``pyproject.toml`` holds the boundary). So these modules may be as large and import
as much as their job needs without slowing a single parse.
"""
