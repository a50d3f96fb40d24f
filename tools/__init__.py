"""Developer tools that drive the dashboard: the screenshot generator and the dashboard benchmark.

They sit above ``yellowtui`` (they import the app; nothing imports them) and are not shipped in
the wheel. Run them from the repository root: ``python -m tools.screenshots``,
``python -m tools.tui_bench``.
"""
