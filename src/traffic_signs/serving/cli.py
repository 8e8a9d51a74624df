"""Serve the web app or the HTTP API on the bundled model.

  traffic-signs serve app            # Streamlit page on $PORT or 8501
  traffic-signs serve api            # FastAPI on $PORT or 8000, docs at /docs

Limits and other settings come from the environment (docs/configuration.md); the options
below win over it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from traffic_signs.settings import MiB, Settings, export_settings, get_settings, variable_name

DEFAULT_PORTS = {"app": 8501, "api": 8000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("what", choices=["app", "api"])
    parser.add_argument("--port", type=int, default=None,
                        help=f"default: ${variable_name('port')}, else 8501 (app) / 8000 (api)")
    parser.add_argument("--host", default=None, help=f"default: ${variable_name('host')}, else 0.0.0.0")
    parser.add_argument("--model", default=None,
                        help=f"shipped model name, run folder, model .json or .onnx (default: "
                        f"${variable_name('model')}, else the shipped one)")
    parser.add_argument("--workers", type=int, default=None,
                        help=f"API worker processes (default: ${variable_name('workers')} or 1)")


def serving_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """``settings`` with the command line's choices on top. Under the API, requests run side
    by side in inference slots (two per core), so unless the threads are set, one ONNX Runtime
    thread each keeps the cores shared fairly and the event loop, with /healthz, responsive."""
    given = {"port": args.port, "host": args.host, "model": args.model, "workers": args.workers}
    changes = {name: value for name, value in given.items() if value is not None}
    if args.what == "api" and settings.threads is None:
        changes["threads"] = 1
    return replace(settings, **changes)


def run(args: argparse.Namespace) -> int:
    settings = serving_settings(args, get_settings())
    # This process reads them from here on, and uvicorn's worker processes, which build their
    # own app and see only the environment, read them from there.
    export_settings(settings)
    port = settings.port or DEFAULT_PORTS[args.what]
    if args.what == "api":
        # here, not at the top: --help stays fast without uvicorn, FastAPI and Streamlit (serve extra)
        import uvicorn

        from traffic_signs.serving.api import create_app
        from traffic_signs.serving.guards import limit_malloc_arenas, raise_open_file_limit, server_options

        raise_open_file_limit()
        limit_malloc_arenas()
        options = {"host": settings.host, "port": port, "log_level": "warning", **server_options(settings=settings)}
        if settings.workers > 1:  # each worker process builds its own app from the exported settings
            uvicorn.run("traffic_signs.serving.api:create_app", factory=True, workers=settings.workers, **options)
        else:
            uvicorn.run(create_app(), **options)
        return 0
    from streamlit.web import cli as streamlit_cli

    app = Path(__file__).with_name("app.py")
    sys.argv = ["streamlit", "run", str(app), "--server.port", str(port), "--server.address", settings.host,
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--client.showErrorDetails", "none", "--client.toolbarMode", "viewer",
                "--server.maxUploadSize", str(app_upload_mib(settings.max_file_bytes))]
    return int(streamlit_cli.main() or 0)


def app_upload_mib(max_file_bytes: int) -> int:
    """Streamlit's per-file upload limit, in whole MiB: the API's per-file limit, rounded up."""
    return max(1, -(-max_file_bytes // MiB))
