#!/bin/sh
# Trim a serving virtualenv for the Docker image (PaaS slugs are capped at 500 MB):
# test suites, notebook assets, build tools, and pyarrow (160 MB), which Streamlit loads
# only for dataframes and charts. scripts/verify_runtime.py then proves the app still works.
set -eu
venv="$1"
site=$(echo "$venv"/lib/python3*/site-packages)
cd "$site"
rm -rf pandas/tests numpy/*/tests numpy/tests pyarrow/tests pyarrow/include pydeck/nbextension \
       onnxruntime/transformers onnxruntime/tools onnxruntime/quantization pip setuptools \
       pip-* setuptools-*
rm -rf pyarrow pyarrow-*  # only Streamlit's dataframe/chart elements load it; the app uses neither
find . -name "__pycache__" -prune -exec rm -rf {} +
