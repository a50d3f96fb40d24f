"""Screens of the dashboard, one per module, each with its TCSS file beside it."""
