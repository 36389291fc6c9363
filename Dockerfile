# Seawall container image: `seawall` is the entry point, the center (`serve`) the default.
#
#   deploy/build-image                 # or: docker build -t seawall:0.1.0 .
#   docker run --read-only --tmpfs /tmp -p 8080:8080 -v seawall-data:/var/lib/seawall seawall:0.1.0
#
# Two stages: the builder turns constraints.txt (the versions the tests passed with) into
# wheels and installs them into a virtual environment under /opt/seawall; the runtime stage
# is the same slim Debian Python with only that environment copied in (no compiler, no pip,
# no curl). It runs as the numeric non-root user 10001 and writes only below
# /var/lib/seawall (a volume) and /tmp, so it runs with a read-only root filesystem.
# PYTHON_IMAGE must be the same image in both stages (the venv points at its python).
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN python -m pip wheel --wheel-dir /wheels -c constraints.txt . \
 && python -m venv /opt/seawall \
 && /opt/seawall/bin/python -m pip install --no-index --find-links /wheels seawall \
 && /opt/seawall/bin/python -m pip uninstall --yes pip setuptools \
 && /opt/seawall/bin/seawall version \
 && mkdir -p /var/lib/seawall/data /var/lib/seawall/cache /var/lib/seawall/db

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="Seawall" \
      org.opencontainers.image.description="Open-source container security center: image inventory and vulnerability scanning, host hardening, admission control, run-time detection." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.documentation="docs/deployment.md"
COPY --from=builder /opt/seawall /opt/seawall
COPY --from=builder --chown=10001:10001 /var/lib/seawall /var/lib/seawall
ENV PATH=/opt/seawall/bin:/usr/local/bin:/usr/bin:/bin \
    HOME=/var/lib/seawall \
    TMPDIR=/tmp \
    SEAWALL_DATA_DIR=/var/lib/seawall/data \
    SEAWALL_CACHE_DIR=/var/lib/seawall/cache \
    SEAWALL_DB=/var/lib/seawall/db/advisories.db \
    SEAWALL_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /var/lib/seawall
VOLUME ["/var/lib/seawall"]
EXPOSE 8080
# No curl in a slim image: Python asks the center. Other commands (agent, worker,
# admission serve) set SEAWALL_HEALTHCHECK_URL or run with --no-healthcheck.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(os.environ['SEAWALL_HEALTHCHECK_URL'], timeout=4).status != 200)"]
ENTRYPOINT ["seawall"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
