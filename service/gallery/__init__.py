"""The gallery's lifecycle: its matcher configuration, and how a process opens it."""
