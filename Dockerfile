# Traffic sign recognition: the web app (default) or the HTTP API, on the bundled model, for
# pictures and clips (PyAV: the app's clip upload, POST /v1/track), 425 MB. Not the app's live
# camera: streamlit-webrtc and aiortc, and the pyarrow and pandas Streamlit's custom components
# load, took it to 560 MB (measured), past PaaS slugs' 500 MB cap (scripts/slim_venv.sh).
# Runtime is ONNX Runtime only: no torch in the image.
#   docker build -t traffic-signs .
#   docker run -p 8501:8501 -e PORT=8501 traffic-signs                       # Streamlit app
#   docker run -p 8000:8000 -e PORT=8000 -e TRAFFIC_SIGNS_SERVE=api traffic-signs   # HTTP API
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# strip, for the trim below (build stage only)
RUN apt-get update && apt-get install -y --no-install-recommends binutils && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY src ./src
COPY scripts/slim_venv.sh scripts/verify_runtime.py scripts/sign_clip.py ./scripts/
# The package with its serving extra and PyAV (the video extra without streamlit-webrtc), every
# version pinned by the project's lock file; then trimmed, and verified end to end after trimming
# (a picture, a real H.264 clip tracked and annotated: see scripts/verify_runtime.py).
RUN python -m venv /app/venv \
 && /app/venv/bin/pip install -c requirements.lock ".[serve]" av \
 && sh scripts/slim_venv.sh /app/venv \
 && /app/venv/bin/python scripts/verify_runtime.py \
 && find /app/venv -name "__pycache__" -prune -exec rm -rf {} +

FROM ${BASE_IMAGE}
RUN useradd --create-home --uid 10001 app
COPY --from=build /app/venv /app/venv
ENV PATH=/app/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORT=8501 \
    TRAFFIC_SIGNS_SERVE=app \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false
USER app
WORKDIR /home/app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request as u; p = '/healthz' if os.environ['TRAFFIC_SIGNS_SERVE'] == 'api' else '/_stcore/health'; u.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}{p}', timeout=4)"
CMD ["sh", "-c", "exec traffic-signs serve \"$TRAFFIC_SIGNS_SERVE\" --port \"$PORT\""]
