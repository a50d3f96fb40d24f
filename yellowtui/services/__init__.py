"""The dashboard's and the command line's only door to databases and processes.

Widgets and CLI commands call these services; they never hold a connection or a SQL string.
Every method blocks, so the dashboard calls them from ``@work(thread=True)`` workers. Pure
formatting lives in :mod:`yellowtui.presenters`.
"""
