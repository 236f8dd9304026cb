# Sourced (not run) by ensure-test-tools.sh and ensure-venv.sh: installs Debian packages with apt-get
# when this user can (root, or passwordless sudo); otherwise says the one line to run and fails.
# Usage: apt_install "WHY" "ELSEWHERE" PACKAGE...
#   WHY: printed above that line when this user cannot install (what needs them, what to do next);
#   ELSEWHERE: what to do on a system without apt-get.

apt_install() {
    local why=$1 elsewhere=$2
    shift 2
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            echo "$why" >&2
            echo "    sudo apt-get update && sudo apt-get install -y $*" >&2
            return 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "missing: $*, and this is not a Debian-like system (no apt-get); $elsewhere" >&2
        return 1
    fi
    echo "+ apt-get update"
    "${sudo[@]}" apt-get update || return 1
    echo "+ apt-get install -y --no-install-recommends $*"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "$@"
}
