"""`python -m sim` is the same as the `sektorsim` command."""

from sim.cli import main

main()
