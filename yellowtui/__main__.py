"""``python -m yellowtui``: the command line (``yellowtui serve`` starts each browser session so)."""

from yellowtui.cli import main

main(prog_name="yellowtui")
