#!/usr/bin/env bash
# Opt-in check that Rally's official Python toolkit (pyral 1.7.0) works against rally-sim:
# finds a Python >= 3.12 (pyral 1.7.0 requires it), makes a venv under target/pyral-venv,
# installs pyral there, builds rally-sim and runs tests/pyral/check.py (which starts the
# simulator with --tls). Without such a Python it says so and exits 0.
#   npm run test:pyral            PYRAL_PYTHON=/path/to/python3.12 npm run test:pyral
#   bash tests/pyral/run.sh --probe   prints the Python it would use; exit 1 when there is none
set -euo pipefail
cd "$(dirname "$0")/../.."

PYRAL_VERSION=1.7.0

python_ok() {
  "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
  local c
  for c in "${PYRAL_PYTHON:-}" python3.13 python3.12 python3.14 python3; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1 && python_ok "$c"; then command -v "$c"; return 0; fi
  done
  for c in "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    if [ -x "$c" ] && python_ok "$c"; then echo "$c"; return 0; fi
  done
  return 1
}

if ! PY=$(find_python); then
  echo "pyral check skipped: no Python >= 3.12 found (pyral $PYRAL_VERSION needs one); set PYRAL_PYTHON to use one"
  [ "${1:-}" = "--probe" ] && exit 1
  exit 0
fi
# --probe: only say which Python would be used (exit 1 above when none).
if [ "${1:-}" = "--probe" ]; then echo "$PY"; exit 0; fi
echo "pyral check: $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"

VENV=target/pyral-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import pyral, sys; sys.exit(0 if pyral.__version__ == tuple(map(int, '$PYRAL_VERSION'.split('.'))) else 1)" 2>/dev/null; then
  # pip's own configuration (index, certificates) applies, as for any install on this machine.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pyral==$PYRAL_VERSION"
fi

cargo build --quiet -p rally-sim
exec "$VENV/bin/python" tests/pyral/check.py --sim target/debug/rally-sim
