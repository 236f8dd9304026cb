#!/usr/bin/env bash
# Write constraints.txt: every package a fresh `pip install -e '.[test,cluster]'` resolves to, pinned
# (pip freeze of a new, empty virtualenv). One file serves every install: `make run` (.), `make install`
# (.[test]), `make install-cluster` (.[test,cluster]: Ray and its own dependencies) and the Dockerfile
# all install with `pip install -c constraints.txt`, and a pin only acts on what an install asks for. So
# a new FastAPI, Starlette or Ray release changes nothing until this is run again (`make lock`), the
# suite passes, and the new file is committed.
# Usage: scripts/lock.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${1:-python3}
VENV=build/lock-venv
rm -rf "$VENV"
bash scripts/ensure-venv.sh "$PYTHON" "$VENV"
echo "+ $VENV/bin/python -m pip install -e '.[test,cluster]'   (no constraints: the newest that fit pyproject.toml)"
"$VENV/bin/python" -m pip install --quiet -e '.[test,cluster]'

python_version=$("$VENV/bin/python" -c 'import platform; print(platform.python_version())')
{
    echo "# Pinned versions of everything \`pip install -e '.[test,cluster]'\` needs (runtime, test tools, Ray)."
    echo "# Made by \`make lock\` (scripts/lock.sh) with Python $python_version on $(uname -s) $(uname -m);"
    echo "# the Makefile and the Dockerfile install with \`pip install -c constraints.txt\`. Do not edit by hand."
    "$VENV/bin/python" -m pip freeze --exclude-editable | LC_ALL=C sort -f
} > constraints.txt.new
mv constraints.txt.new constraints.txt
rm -rf "$VENV"
echo "constraints.txt: $(grep -c '==' constraints.txt) pinned packages"
