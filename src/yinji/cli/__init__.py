"""Command-line interface: `yinji <command> ...`."""
