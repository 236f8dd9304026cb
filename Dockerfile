# Digit Studio: the server, the page, the shipped models and the real MNIST in one image.
#   docker build -t digit-studio .
#   docker run --rm -p 8000:8000 -v digit-studio:/var/lib/digit-studio digit-studio
FROM python:3.11-slim-bookworm

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
