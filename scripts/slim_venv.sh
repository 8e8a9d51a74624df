#!/bin/sh
# Trim a serving virtualenv for the Docker image (PaaS slugs are capped at 500 MB). What each cut
# saved, measured on the pinned versions (requirements.lock) installed as the Dockerfile does
# (611 MB without __pycache__ -> 250 MB):
#   numpy's tests, onnxruntime's model tools, pip and setuptools                    20 MB
#   onnxruntime's C API library (capi/libonnxruntime.so.*): a second copy of the runtime
#     for other native packages; the Python binding carries its own and never loads it  35 MB
#   Streamlit's dataframe and chart stack, imported only by dataframe, table and chart
#     elements (the app shows none): pyarrow 172, pandas (with dateutil, tzdata) 45,
#     altair, pydeck (and its notebook extension in share/), narwhals, jsonschema... 58  275 MB
#   symbol tables of Python extension modules (strip --strip-unneeded keeps the dynamic
#     symbols loading needs), 26 MB of it in PyAV's                                   31 MB
# Streamlit's custom components load pyarrow and pandas when they run, so streamlit-webrtc (the
# app's live camera) could not run here: it is left out of the image (see the Dockerfile).
# The libraries auditwheel bundled (*.libs/) are not stripped: patchelf laid them out so that a
# stripped copy no longer loads. scripts/verify_runtime.py then loads every shared library left
# and runs everything the image serves.
set -eu
venv="$1"
site=$(echo "$venv"/lib/python3*/site-packages)
rm -rf "$venv/share/jupyter" "$venv/etc/jupyter"
cd "$site"
rm -rf numpy/*/tests numpy/tests onnxruntime/transformers onnxruntime/tools onnxruntime/quantization \
       pip setuptools pip-* setuptools-*
rm -f onnxruntime/capi/libonnxruntime.so.*
rm -rf pyarrow pyarrow-* pandas pandas-* dateutil python_dateutil-* tzdata tzdata-* \
       altair altair-* pydeck pydeck-* narwhals narwhals-* jsonschema jsonschema-* \
       jsonschema_specifications jsonschema_specifications-* referencing referencing-* rpds rpds_py-* attr attrs attrs-*
find . -path "./*.libs" -prune -o -type f -name "*.so" -exec strip --strip-unneeded {} +
find . -name "__pycache__" -prune -exec rm -rf {} +
