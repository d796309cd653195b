"""The gallery's lifecycle: loading it from the store or its encrypted snapshot, reconciling
the two, and writing the snapshot in time."""
