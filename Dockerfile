# Digit Studio: the server, the page, the shipped models and the real MNIST in one image.
#   docker build -t digit-studio .
#   docker run --rm --shm-size=512m -p 8000:8000 -v digit-studio:/var/lib/digit-studio digit-studio
# --shm-size: runs train in worker processes with MNIST in shared memory (/dev/shm, 210 MB). With
# Docker's default 64 MB the workers share it through files on disk instead, and /api/health says so.
# Target `cluster` adds Ray, for the nodes of a Ray cluster and a studio on one (deploy/compose.yaml).
# PYTHON_IMAGE: any Debian-based image with python3.11+ and pip as `python` and `pip` (a local one, say,
# where no registry is reachable: scripts/compose-check.sh).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE} AS studio

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DIGIT_STUDIO_HOME=/var/lib/digit-studio \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1

# A numeric uid/gid so that hosts and orchestrators can check the user is not root.
RUN groupadd --gid 10001 studio \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin studio \
    && mkdir -p /var/lib/digit-studio \
    && chown studio:studio /var/lib/digit-studio

WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY app/ app/
# Editable on purpose: the server finds templates/, static/, models/ and data/ next to the app
# package (app/server/settings.py), so the package must stay in /app, not move to site-packages.
# Pinned by constraints.txt, as `make run` installs it: a new release cannot change the image.
RUN pip install --no-cache-dir -c constraints.txt -e .

COPY templates/ templates/
COPY static/ static/
COPY models/ models/
COPY data/ data/

USER 10001:10001
EXPOSE 8000
VOLUME ["/var/lib/digit-studio"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"]
CMD ["digit-studio", "serve", "--host", "0.0.0.0"]

# The studio plus the optional `cluster` extra (Ray), pinned by the same constraints.txt. Actors import
# the app's code, so every Ray node runs this same image.
FROM studio AS cluster
USER 0
RUN pip install --no-cache-dir -c constraints.txt -e '.[cluster]'
USER 10001:10001

# The default target (a plain `docker build`): the studio without Ray.
FROM studio
