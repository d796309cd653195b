"""`abis bench`: the matching engines measured side by side on synthetic galleries."""
