# todoapp: slim image, non-root user, the server as PID 1 (exec form) so SIGTERM drains it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 todoapp

# Dependencies first, from the pinned lock: this layer survives code changes. Not the
# `embedded` extra (PostgreSQL binaries): the container always gets DATABASE_URL.
COPY requirements.lock ./
# swagger-ui-py also ships Swagger Editor and source maps (~21 MB) that /docs never serves.
RUN pip install -r requirements.lock \
    && find "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/swagger_ui" \
        \( -name 'swagger-editor*' -o -name '*.map' \) -delete

COPY pyproject.toml README.md alembic.ini ./
COPY backend ./backend
COPY todoapp_tools ./todoapp_tools
COPY migrations ./migrations
COPY frontend ./frontend
RUN pip install --no-deps -e .

# Numeric, so that the host (and Kubernetes' runAsNonRoot) can tell it is not root.
USER 10001
ENV HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000

# The port the server binds (PORT), on the loopback interface of the container.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=2)"]

# Migrates (under an advisory lock, once per container, before the workers start), then
# serves. Exec form: todoapp is PID 1 and receives SIGTERM directly.
CMD ["todoapp", "serve", "--host", "0.0.0.0"]
