"""The transmission use case: prepare (check, decode, seal), compare in batches, answer."""
