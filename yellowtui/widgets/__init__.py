"""Widgets of the dashboard, one per module. They never import SQLAlchemy or an HTTP client."""
