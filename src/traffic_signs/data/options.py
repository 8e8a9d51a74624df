"""The command-line options of every command that reads the GTSRB data, stated once."""

from __future__ import annotations

import argparse


def add_data_arguments(parser: argparse.ArgumentParser, cache: bool = True) -> None:
    """``--data-dir`` (and, unless ``cache`` is false, ``--cache-dir``) with their defaults explained."""
    parser.add_argument("--data-dir", default=None,
                        help="GTSRB folder (default: $TRAFFIC_SIGNS_DATA or the user cache)")
    if cache:
        parser.add_argument("--cache-dir", default=None,
                            help="decoded-array cache (default: $TRAFFIC_SIGNS_CACHE or the user cache)")
