"""yellowtui: the terminal dashboard and command line for the Yellow DAG factory."""

__version__ = "0.1.0"
