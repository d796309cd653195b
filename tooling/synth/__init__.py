"""Synthetic persons and their captures: no real biometrics, ever."""
