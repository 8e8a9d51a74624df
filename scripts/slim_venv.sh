#!/bin/sh
# Trim a serving virtualenv for the Docker image (PaaS slugs are capped at 500 MB):
# test suites, notebook assets, build tools, and the parts of pyarrow that Streamlit
# never loads (Flight RPC, S3, Substrait, datasets, Parquet, Acero, ORC). Shared libraries
# are stripped of symbols. scripts/verify_runtime.py then proves the app still works.
set -eu
venv="$1"
site=$(echo "$venv"/lib/python3*/site-packages)
cd "$site"
rm -rf pandas/tests numpy/*/tests numpy/tests pyarrow/tests pyarrow/include pydeck/nbextension \
       onnxruntime/transformers onnxruntime/tools onnxruntime/quantization pip setuptools \
       pip-* setuptools-*
rm -rf pyarrow/*flight* pyarrow/*s3* pyarrow/*substrait* pyarrow/*dataset* pyarrow/*parquet* \
      pyarrow/*acero* pyarrow/*orc* pyarrow/*gandiva* pyarrow/*.pxd pyarrow/*.pyx
find . -name "__pycache__" -prune -exec rm -rf {} +
find . -name "*.so*" -type f -exec strip --strip-unneeded {} + 2>/dev/null || true
