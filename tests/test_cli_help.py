"""Every CLI sub-command is listed in `yinji --help` and in its group's --help (with a line
of help), so an operator can find each one without reading the docs."""

import argparse
import re

import pytest

from yinji.cli.main import build_parser, main, subcommands


def _walk(parser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {a.dest for a in action._choices_actions}
            for name, sp in action.choices.items():
                yield (*path, name), name in helped
                yield from _walk(sp, (*path, name))


def test_every_subcommand_is_in_the_top_level_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    listed = subcommands(build_parser())
    assert {"node", "job", "app", "audit", "ca", "pir"} <= set(listed)
    for path, _ in _walk(build_parser()):
        group, rest = path[0], " ".join(path[1:])
        assert re.search(rf"^ +{re.escape(group)}\b", text, re.M), group
        if rest:
            line = next(ln for ln in text.splitlines() if ln.startswith(f"  {group} "))
            assert rest in line.split(None, 1)[1].split(", "), (group, rest)
    for new in ("rotate-cert", "status", "archive"):
        assert new in text


def test_every_subcommand_has_a_help_line_in_its_group(capsys):
    missing = [" ".join(p) for p, helped in _walk(build_parser()) if not helped]
    assert not missing, f"sub-commands without help=: {missing}"
    for path, _ in _walk(build_parser()):
        if len(path) != 2:
            continue
        with pytest.raises(SystemExit):
            main([path[0], "--help"])
        assert f"    {path[1]}" in capsys.readouterr().out, path
