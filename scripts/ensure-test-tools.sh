#!/usr/bin/env bash
# Make sure the system tools that `make test` needs are here: Debian's chromium (browser tests,
# driven by Playwright at /usr/bin/chromium), a font for it, and node (page unit tests).
# Installs them with apt-get when this user can (root, or passwordless sudo); otherwise says what to run.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
# Without a font, chromium renders text as boxes and text-measuring page tests go wrong.
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v node >/dev/null 2>&1 || missing+=(nodejs)

if [ ${#missing[@]} -eq 0 ]; then
    echo "test tools present: $("$CHROMIUM" --version 2>/dev/null | head -n1), node $(node --version)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "make test needs these Debian packages, which are missing: ${missing[*]}" >&2
    echo "install them, then run make test again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "missing: ${missing[*]}, and this is not a Debian-like system (no apt-get);" >&2
    echo "install Chromium at $CHROMIUM and Node.js >= 20 with your package manager." >&2
    exit 1
fi

echo "+ apt-get update"
"${SUDO[@]}" apt-get update
echo "+ apt-get install -y --no-install-recommends ${missing[*]}"
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null 2>&1; then
    echo "apt-get finished, but $CHROMIUM or node is still missing: install them by hand" >&2
    exit 1
fi
echo "test tools installed: $("$CHROMIUM" --version | head -n1), node $(node --version)"
