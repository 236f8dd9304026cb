#!/usr/bin/env bash
# Run deploy/compose.yaml for real on a machine without a Docker engine, and train a run through it:
# Debian's podman (with runc) and podman-compose from PyPI, as root. No image registry is needed: the
# base image (Debian bookworm's python3 in a venv, as `python` and `pip`) is made with debootstrap from
# the Debian mirror apt uses, and the Dockerfile builds FROM it (PYTHON_IMAGE). Then
# scripts/compose_probe.py checks the studio, its Ray cluster and a run started through the API; then
# the plain image (no Ray) the same way.
# Not run by CI: it installs Debian packages and builds images (minutes, ~1 GB under /var/lib/containers
# and WORK). Leaves the images for a faster second run: `podman rmi` them, and rm -r WORK, when done.
# Usage (root): bash scripts/compose-check.sh     env: STUDIO_PORT (18301), WORK (/tmp/compose-check),
#   KEEP=1 to leave the compose stack running (stop it with the `down` command this prints)
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${STUDIO_PORT:-18301}
WORK=${WORK:-/tmp/compose-check}
PROJECT=digit-studio-check
PLAIN=digit-studio-check-plain   # the plain image's container and state volume
export PYTHON_IMAGE=localhost/python-local:3.11-bookworm
step() { echo; echo "=== compose-check: $* ($(date -u +%H:%M:%S) UTC)"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "compose-check runs podman as root (and installs Debian packages): run it as root" >&2
    exit 1
fi
mkdir -p "$WORK"

step "Debian packages: podman, runc, debootstrap"
missing=()
for package in podman runc debootstrap containernetworking-plugins netavark aardvark-dns python3-venv; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    # shellcheck source=scripts/apt-install.sh
    . scripts/apt-install.sh
    apt_install "compose-check needs these Debian packages: ${missing[*]}" "use a Debian machine" \
        "${missing[@]}" || exit 1
fi

step "podman-compose (PyPI, in $WORK/venv)"
if [ ! -x "$WORK/venv/bin/podman-compose" ]; then
    python3 -m venv "$WORK/venv"
    timeout 600 "$WORK/venv/bin/pip" install --quiet 'podman-compose==1.6.0'
fi
COMPOSE=("$WORK/venv/bin/podman-compose" -p "$PROJECT" -f deploy/compose.yaml)

# This machine's limits, in a containers.conf of our own (the system's is left alone): crun refuses a
# cgroup v1 + v2 hybrid ("cgroups in hybrid mode not supported"), runc does not; and root here may not
# raise a hard limit (no CAP_SYS_RESOURCE), so containers get limits the runtime already has, not
# podman's higher defaults ("setrlimit RLIMIT_NOFILE: Operation not permitted"). The runtime runs with
# at most pid_max processes, whatever this shell's limit.
pid_max=$(cat /proc/sys/kernel/pid_max)
nproc=$(( $(ulimit -Hu) < pid_max ? $(ulimit -Hu) : pid_max ))
cat > "$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$WORK/containers.conf"

step "base image $PYTHON_IMAGE"
if podman image exists "$PYTHON_IMAGE"; then
    echo "present"
else
    rootfs="$WORK/rootfs"
    rm -rf "$rootfs"
    timeout 1800 debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm \
        "$rootfs" http://deb.debian.org/debian
    # As python:3.11-slim has them: `python` and `pip` on PATH, pip free to install (a venv: PEP 668).
    chroot "$rootfs" python3 -m venv /opt/python
    # This machine's CA bundle, so pip inside the build trusts what the host trusts.
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$rootfs/etc/pip.conf"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | podman import \
        --change 'ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$PYTHON_IMAGE"
    rm -rf "$rootfs"
fi

RAY_AUTH_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
DIGIT_STUDIO_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')
export RAY_AUTH_TOKEN DIGIT_STUDIO_TOKEN STUDIO_PORT=$PORT

step "build (the Dockerfile's cluster target, FROM $PYTHON_IMAGE)"
start=$SECONDS
timeout 1800 "${COMPOSE[@]}" build
echo "built in $((SECONDS - start)) s"

down() {
    podman rm -f "$PLAIN" >/dev/null 2>&1 || true
    podman volume rm -f "$PLAIN" >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then
        echo "left running; stop it with: CONTAINERS_CONF=$CONTAINERS_CONF RAY_AUTH_TOKEN=x DIGIT_STUDIO_TOKEN=x" \
             "${COMPOSE[*]} down -v  (and podman volume prune for the Ray nodes' anonymous volumes)"
        return
    fi
    step "down"
    # The Ray nodes' anonymous volumes (the image's VOLUME) go with them.
    volumes=$(podman ps -a --filter "label=io.podman.compose.project=$PROJECT" -q \
              | xargs -r podman inspect --format '{{range .Mounts}}{{.Name}} {{end}}')
    timeout 300 "${COMPOSE[@]}" down -v >/dev/null
    for volume in $volumes; do podman volume rm -f "$volume" >/dev/null 2>&1 || true; done
}
trap down EXIT

step "up: ray-head, ray-worker, studio on port $PORT"
start=$SECONDS
timeout 300 "${COMPOSE[@]}" up -d
step "probe"
if ! python3 scripts/compose_probe.py --url "http://127.0.0.1:$PORT" --token "$DIGIT_STUDIO_TOKEN" \
        --studio "${PROJECT}_studio_1"; then
    for service in ray-head ray-worker studio; do
        echo "--- ${PROJECT}_${service}_1, last lines:"; podman logs --tail 30 "${PROJECT}_${service}_1" 2>&1 || true
    done
    echo "compose-check: FAILED" >&2
    exit 1
fi
echo "compose-check: compose passed ($((SECONDS - start)) s from up to the end of the probe)"

# The plain image (the Dockerfile's default target), run as the README's `docker run` line says. Its
# runs train in worker processes with MNIST in shared memory (210 MB in /dev/shm): podman's and
# Docker's default /dev/shm of 64 MB kills the server with SIGBUS (exit 135) at the first run.
step "plain image, docker run as the README says (--shm-size=512m), on port $((PORT + 1))"
timeout 1800 podman build -q -t localhost/digit-studio:local --build-arg PYTHON_IMAGE .
start=$SECONDS
podman run -d --name "$PLAIN" --shm-size=512m -p "$((PORT + 1)):8000" -v "$PLAIN:/var/lib/digit-studio" \
    -e DIGIT_STUDIO_TOKEN localhost/digit-studio:local >/dev/null
if ! python3 scripts/compose_probe.py --no-ray --url "http://127.0.0.1:$((PORT + 1))" \
        --token "$DIGIT_STUDIO_TOKEN" --studio "$PLAIN"; then
    podman logs --tail 30 "$PLAIN" 2>&1 || true
    echo "compose-check: FAILED (the plain image)" >&2
    exit 1
fi
echo "compose-check: passed (the plain image: $((SECONDS - start)) s from run to the end of the probe)"
