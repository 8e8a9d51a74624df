"""Serve the web app or the HTTP API on the bundled model.

  traffic-signs serve app            # Streamlit page on $PORT or 8501
  traffic-signs serve api            # FastAPI on $PORT or 8000, docs at /docs
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_PORTS = {"app": 8501, "api": 8000}
APP_MAX_UPLOAD_MB = 10  # per file in the web app, as the API's per-file limit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("what", choices=["app", "api"])
    parser.add_argument("--port", type=int, default=None, help="default: $PORT, else 8501 (app) / 8000 (api)")
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--model", default=None, help="shipped model name, run folder, model .json or .onnx")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")),
                        help="API worker processes (default: $WEB_CONCURRENCY or 1)")


def run(args: argparse.Namespace) -> int:
    port = args.port or int(os.environ.get("PORT") or DEFAULT_PORTS[args.what])
    if args.model:
        os.environ["TRAFFIC_SIGNS_MODEL"] = args.model
    if args.what == "api":
        import uvicorn

        from traffic_signs.serving.api import create_app
        from traffic_signs.serving.guards import limit_malloc_arenas, raise_open_file_limit, server_options

        raise_open_file_limit()
        limit_malloc_arenas()
        # Requests run side by side in inference slots (two per core); one ONNX Runtime thread
        # each keeps the cores shared fairly and the event loop, with /healthz, responsive.
        os.environ.setdefault("TRAFFIC_SIGNS_THREADS", "1")
        options = {"host": args.host, "port": port, "log_level": "warning", **server_options()}
        if args.workers > 1:  # each worker process builds its own app (model from $TRAFFIC_SIGNS_MODEL)
            uvicorn.run("traffic_signs.serving.api:create_app", factory=True, workers=args.workers, **options)
        else:
            uvicorn.run(create_app(model=args.model), **options)
        return 0
    from streamlit.web import cli as streamlit_cli

    app = Path(__file__).with_name("app.py")
    sys.argv = ["streamlit", "run", str(app), "--server.port", str(port), "--server.address", args.host,
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--client.showErrorDetails", "none", "--client.toolbarMode", "viewer",
                "--server.maxUploadSize", str(APP_MAX_UPLOAD_MB)]
    return int(streamlit_cli.main() or 0)
