"""Yinji (隐计): privacy computing for a financial group."""

__version__ = "0.1.0"
