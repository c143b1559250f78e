# 村治 Cunzhi — production image: the PWA built with Node, served with the API by Python.
# CI has no Docker engine: tests/ops/test_deploy.py reads these steps and runs the Python install the same way
# in a clean virtualenv (the same lock file as `make`). deploy/compose.yaml runs it with PostgreSQL and Caddy.

# ---- 1. build the PWA ---------------------------------------------------------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# ---- 2. install the server into a virtualenv ----------------------------------------------------
FROM python:3.11-slim-bookworm AS server
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock ./
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY backend/ backend/
RUN /opt/venv/bin/pip install --no-deps .

# ---- 3. run -------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CUNZHI_DATA_DIR=/data \
    CUNZHI_FRONTEND_DIR=/app/frontend \
    CUNZHI_MIGRATIONS_DIR=/app/migrations \
    CUNZHI_DEMO=0
# pg_dump/pg_restore for `cunzhi db backup` / `db restore` (version 15: keep the database image in step)
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home /app cunzhi && mkdir -p /data /app && chown cunzhi /data
COPY --from=server /opt/venv /opt/venv
COPY --from=web /src/frontend/dist /app/frontend
COPY migrations/ /app/migrations/
USER cunzhi
WORKDIR /app
VOLUME ["/data"]
EXPOSE 8000
# PostgreSQL in production: -e CUNZHI_DATABASE_URL=postgresql+psycopg://user:pass@db:5432/cunzhi
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=4).status == 200 else 1)"
CMD ["cunzhi", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
