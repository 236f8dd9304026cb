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

# shellcheck source=scripts/apt-install.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_install "make test needs these Debian packages, which are missing: ${missing[*]}
install them, then run make test again:" \
    "install Chromium at $CHROMIUM and Node.js >= 20 with your package manager." "${missing[@]}" || exit 1
if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null 2>&1; then
    echo "apt-get finished, but $CHROMIUM or node is still missing: install them by hand" >&2
    exit 1
fi
echo "test tools installed: $("$CHROMIUM" --version | head -n1), node $(node --version)"
