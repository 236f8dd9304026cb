#!/usr/bin/env bash
# Make the project's virtualenv (default .venv) with PYTHON (default python3), once.
# Debian and Ubuntu's own python3 refuses `pip install` outside a virtualenv (externally managed,
# PEP 668), and ships `venv` in a package of its own: when it is missing, this installs it with
# apt-get if it can (root, or passwordless sudo), or says the one line to run.
# Usage: scripts/ensure-venv.sh [PYTHON] [VENV]
set -euo pipefail

PYTHON=${1:-python3}
VENV=${2:-.venv}
case "$VENV" in
    "" | / | . | .. | "$HOME") echo "refusing VENV=$VENV: name a folder of its own, such as .venv" >&2; exit 1 ;;
esac

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' \
        2>/dev/null; then
    exit 0   # made before and still working
fi

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "no $PYTHON here: install Python 3.11 or newer" >&2
    echo "(Debian/Ubuntu: sudo apt-get install -y python3 python3-venv)," >&2
    echo "or name one: make run PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    found=$("$PYTHON" -c 'import platform; print(platform.python_version())')
    echo "$PYTHON is Python $found; Digit Studio needs 3.11 or newer:" >&2
    echo "name a newer one: make run PYTHON=/path/to/python3.11" >&2
    exit 1
fi

# The Debian package that brings venv (and ensurepip) to this Python.
version=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
package="python$version-venv"
if [ "$(readlink -f "$(command -v "$PYTHON")")" = "$(readlink -f /usr/bin/python3 2>/dev/null)" ]; then
    package=python3-venv   # the distribution's own python3
fi

if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    # shellcheck source=scripts/apt-install.sh
    . "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
    apt_install "$PYTHON cannot make a virtualenv: its venv module is missing. Install it, then run make again:" \
        "install $PYTHON's venv module (ensurepip) with your package manager, then run make again" \
        "$package" || exit 1
fi

echo "+ $PYTHON -m venv $VENV"
rm -rf "$VENV"   # a half-made one (say, from before venv was installed) would not repair itself
if ! "$PYTHON" -m venv "$VENV"; then
    rm -rf "$VENV"
    echo "could not make the virtualenv $VENV with $PYTHON (see above);" >&2
    echo "on Debian/Ubuntu: sudo apt-get install -y $package" >&2
    exit 1
fi
