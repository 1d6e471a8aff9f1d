"""What a new user meets first: help text that states each default once, and one clear line (exit
status 2, nothing written, the work not started) for a wrong input of any subcommand."""

import argparse
import re

import pytest

from csuper.cli import SUBCOMMANDS, build_parser


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_help_states_each_default_once(name):
    sub = _subparsers()[name]
    text = sub.format_help()
    assert "(default: None)" not in text and "(default: False)" not in text, text
    formatter = sub._get_formatter()
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction) or not action.option_strings:
            continue
        flag = action.option_strings[-1]
        assert action.help, f"csuper {name} {flag} has no help text"
        shown = formatter._get_help_string(action) % {**vars(action), "prog": sub.prog}
        stated = re.findall(r"\(default\b|\bdefault:", shown)
        assert len(stated) <= 1, f"csuper {name} {flag}: {shown}"
        if not action.required and all(
            action.default is not absent for absent in (None, False, argparse.SUPPRESS)
        ):
            assert stated, f"csuper {name} {flag} does not say its default: {shown}"
