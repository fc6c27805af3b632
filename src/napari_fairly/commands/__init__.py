"""Subcommands of the ``fairly`` command, one module each (see ``cli.py``)."""
