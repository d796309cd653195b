"""Monthly, anonymous statistics per Member State and category (Art 12)."""
