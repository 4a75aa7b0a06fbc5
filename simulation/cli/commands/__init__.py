"""The commands of the ``ppsim`` command line, one module each; each registers itself on the
Typer app of :mod:`simulation.cli.entry`."""
