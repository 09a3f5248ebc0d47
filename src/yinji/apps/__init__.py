"""Scenario applications: thin compositions of protocols (and, later, node jobs)."""
