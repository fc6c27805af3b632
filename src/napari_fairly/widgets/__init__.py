"""Dock widgets: collect input, call the core, show results. No computation here."""
