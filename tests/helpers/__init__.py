"""Shared test helpers (plain modules, imported by tests): tools, daemon processes, ports."""
