"""``python -m simulation.cli``: the same as the ``ppsim`` command."""

from simulation.cli.entry import main

main()
