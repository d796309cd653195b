"""The dataset lifecycle (Art 16, 29-31, 38(6), 43): amend, mark, erase, notify, sweep."""
