# syntax=docker/dockerfile:1
# Multi-stage: build the venv from the hashed runtime lock (requirements.lock: no test or
# lint tools; scripts/lock regenerates it), then copy it into a slim runtime image that runs
# as a non-root user. One image, two roles: `serve` (the default CMD; HEALTHCHECK below hits
# /healthz) and `worker` (override the health check with `python -m server worker --check`,
# as docker-compose.yml does). Both stop cleanly on SIGTERM within app.shutdown_timeout_s
# (15 s): give the container a longer stop grace period (compose: 30 s).

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes -r /tmp/requirements.lock

FROM python:3.11-slim AS runtime
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    VAR_DIR=/app/var
RUN groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=app:app server/ server/
COPY --chown=app:app actors/ actors/
COPY --chown=app:app models/ models/
COPY --chown=app:app migrations/ migrations/
COPY --chown=app:app config.toml pyproject.toml ./
RUN mkdir -p /app/var && chown app:app /app/var
USER app
EXPOSE 8080
# The web role's check; the worker role has no HTTP listener and overrides it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"
CMD ["python", "-m", "server", "serve"]
