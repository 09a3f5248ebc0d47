"""Secure SQL (issue #19): SELECT queries over several companies' tables, evaluated
obliviously in the three-party MPC engine; only the final result is opened, to its
recipient. See engine.py for the pipeline and the leakage, docs/sql.md for the language."""

from yinji.sql.engine import SqlResult, execute, take_part
from yinji.sql.schema import Column, SqlError, Table

__all__ = ["Column", "SqlError", "SqlResult", "Table", "execute", "take_part"]
