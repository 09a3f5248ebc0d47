"""Test helpers: run several parties in one process. Imported only by tests and benchmarks."""

from yinji.testing.parties import run_parties

__all__ = ["run_parties"]
