"""napari contributions (reader, sample data): thin adapters over the core."""
