"""A stored dataset: opening what was sealed (payload, templates, the key check at startup) and
reading it back for its Member State."""
