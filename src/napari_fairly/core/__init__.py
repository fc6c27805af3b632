"""Qt-free core: reading, metadata model, form and naming, quality checks, export."""
