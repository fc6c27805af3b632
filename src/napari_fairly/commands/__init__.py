"""Subcommands of the ``fairly`` command, one module each (see ``napari_fairly.cli``)."""
