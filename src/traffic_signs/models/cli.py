"""List the registered models with their size and cost."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["table", "json"], default="table")


def run(args: argparse.Namespace) -> int:
    # here, not at the top: --help stays fast without torch
    from traffic_signs.models.catalog import create, get_entry, list_models
    from traffic_signs.models.complexity import count_macs, count_parameters

    rows = []
    for name in list_models():
        entry, model = get_entry(name), create(name)
        rows.append({"name": name, "ours": entry.ours, "parameters": count_parameters(model),
                     "macs": count_macs(model, entry.input_size), "summary": entry.summary,
                     "source": entry.source})
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'model':<12} {'params':>9} {'MMACs':>7}  summary")
    for row in rows:
        print(f"{row['name']:<12} {row['parameters']:>9,} {row['macs'] / 1e6:>7.2f}  {row['summary']}")
    return 0
