"""`python -m preservation.cli` runs the command line."""

from preservation.cli import main

main()
