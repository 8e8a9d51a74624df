"""The command-line options of every command that reads the GTSRB data, stated once."""

from __future__ import annotations

import argparse

from traffic_signs.settings import variable_name


def add_data_arguments(parser: argparse.ArgumentParser, cache: bool = True) -> None:
    """``--data-dir`` (and, unless ``cache`` is false, ``--cache-dir``) with their defaults explained."""
    parser.add_argument("--data-dir", default=None,
                        help=f"GTSRB folder (default: ${variable_name('data_dir')} or the user cache)")
    if cache:
        parser.add_argument("--cache-dir", default=None,
                            help=f"decoded-array cache (default: ${variable_name('cache_dir')} or the user cache)")
