#!/bin/sh
# Install inception_time_nb into the Python environment of $PYTHON: torch first (from the index for the
# chosen build), then the package from its source folder. The Dockerfile runs this script to build the
# image, and the test suite runs it in a fresh virtual environment (nbs/09_serve.ipynb), so the steps
# tested are the steps of the image.
#
#   sh docker/install.sh [SOURCE_DIR]       # SOURCE_DIR: the package source (default: this script's repository)
#
#   PYTHON           interpreter whose environment receives the package (default: python3)
#   TORCH_SPEC       torch requirement installed first (default: torch)
#   TORCH_INDEX_URL  index of torch wheels, e.g. https://download.pytorch.org/whl/cpu (CPU-only, small) or
#                    https://download.pytorch.org/whl/cu124 (CUDA 12.4); empty: pip's configured index
#   PIP_ARGS         extra arguments for both pip installs (e.g. --no-cache-dir)
set -eu
SRC="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
PY="${PYTHON:-python3}"
[ -f "$SRC/setup.py" ] || { echo "install.sh: $SRC has no setup.py; expected the inception_time_nb source folder" >&2; exit 2; }
if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "$PY" -m pip install ${PIP_ARGS:-} "${TORCH_SPEC:-torch}" --index-url "$TORCH_INDEX_URL"
else
    "$PY" -m pip install ${PIP_ARGS:-} "${TORCH_SPEC:-torch}"
fi
"$PY" -m pip install ${PIP_ARGS:-} "$SRC"
# The programs the image's entry point runs must be installed next to the interpreter.
BIN="$("$PY" -c 'import os, sys; print(os.path.dirname(sys.executable))')"
for prog in inception_time_sagemaker_train inception_time_sagemaker_serve; do
    [ -x "$BIN/$prog" ] || { echo "install.sh: $prog was not installed in $BIN (console_scripts in settings.ini)" >&2; exit 1; }
done
"$PY" -c "import inception_time_nb.serve, torch; print('installed inception_time_nb', inception_time_nb.__version__, 'with torch', torch.__version__)"
