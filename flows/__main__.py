"""`python -m flows` runs the niengiam command line."""

from flows.cli import main

main()
