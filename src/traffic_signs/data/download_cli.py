"""Fetch the GTSRB archives (official site by default) into the data folder, md5-verified.

  traffic-signs download                               # into the data folder (docs/configuration.md)
  traffic-signs download --data-dir data/gtsrb
  traffic-signs download --source /mnt/mirror/gtsrb    # a local folder, file:// or http(s) mirror

Interrupted downloads resume where they stopped; files already present are verified, not
fetched again.
"""

from __future__ import annotations

import argparse

from traffic_signs.data.gtsrb import OFFICIAL_BASE_URL, resolve_data_dir
from traffic_signs.data.options import add_data_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_data_arguments(parser, cache=False)
    parser.add_argument("--source", default=OFFICIAL_BASE_URL, metavar="DIR_OR_URL",
                        help="where to fetch from (default: the official GTSRB archive site)")
    parser.add_argument("--force", action="store_true", help="fetch again even if the files are there")
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    # here, not at the top: --help stays fast without urllib.request, ssl and tqdm
    from traffic_signs.data.download import download

    data_dir = resolve_data_dir(args.data_dir)
    for path in download(data_dir, args.source, args.force, not args.no_progress):
        print(f"ok  {path}")
    return 0
