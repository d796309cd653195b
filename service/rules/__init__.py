"""Pure domain rules: no I/O, no clock; every function takes the facts it needs."""
