#!/usr/bin/env bash
# Write constraints.txt: every package a fresh `pip install -e '.[test]'` resolves to, pinned (pip
# freeze of a new, empty virtualenv). `make run`, `make install` and the Dockerfile install with
# `pip install -c constraints.txt`, so a new FastAPI or Starlette release changes nothing until this
# is run again (`make lock`), the suite passes, and the new file is committed.
# Usage: scripts/lock.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${1:-python3}
VENV=build/lock-venv
rm -rf "$VENV"
bash scripts/ensure-venv.sh "$PYTHON" "$VENV"
echo "+ $VENV/bin/python -m pip install -e '.[test]'   (no constraints: the newest that fit pyproject.toml)"
"$VENV/bin/python" -m pip install --quiet -e '.[test]'

python_version=$("$VENV/bin/python" -c 'import platform; print(platform.python_version())')
{
    echo "# Pinned versions of everything \`pip install -e '.[test]'\` needs (runtime and test tools)."
    echo "# Made by \`make lock\` (scripts/lock.sh) with Python $python_version on $(uname -s) $(uname -m);"
    echo "# the Makefile and the Dockerfile install with \`pip install -c constraints.txt\`. Do not edit by hand."
    "$VENV/bin/python" -m pip freeze --exclude-editable | LC_ALL=C sort -f
} > constraints.txt.new
mv constraints.txt.new constraints.txt
rm -rf "$VENV"
echo "constraints.txt: $(grep -c '==' constraints.txt) pinned packages"
