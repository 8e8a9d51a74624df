"""Show the settings this environment gives, or the table of every variable.

  traffic-signs settings              # each variable, its value here, and whether it is the default
  traffic-signs settings --markdown   # the table of docs/configuration.md

A variable holding a value it does not accept stops here with the variable named, as it
would stop any other command.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from traffic_signs.settings import Settings, default_of, describe_default, get_settings, markdown_table, variable_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--markdown", action="store_true", help="print the table of every variable (Markdown)")


def current_values(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, value, "default" or "set") for every setting; an unset one shows what it
    falls back to."""
    rows = []
    for item in fields(settings):
        var, value = variable_of(item), getattr(settings, item.name)
        shown = describe_default(item) if value is None or value == () else var.kind.render(value)
        rows.append((var.name, shown, "default" if value == default_of(item) else "set"))
    return rows


def run(args: argparse.Namespace) -> int:
    if args.markdown:
        print(markdown_table(), end="")
        return 0
    rows = current_values(get_settings())
    width = max(len(name) for name, _, _ in rows)
    for name, value, origin in rows:
        print(f"{name:<{width}}  {origin:<7}  {value}")
    return 0
