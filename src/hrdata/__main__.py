"""`python -m hrdata` runs the CLI."""

from hrdata.cli import main

main()
