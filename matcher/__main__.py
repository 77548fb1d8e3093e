"""``python -m matcher`` runs the command line, as ``matcher`` does."""

from matcher.cli import main

main(prog_name="matcher")
