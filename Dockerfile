# syndbot in a container. You build the image yourself (nothing is published):
#   docker build -t syndbot .        or   docker compose up -d --build   (compose.yaml)
# The config is read from /app/config (mount your own), secrets come from the environment
# (compose's env_file: .env), and all state lives in the /app/var volume.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SYNDBOT_CONFIG=/app/config/syndbot.toml

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin syndbot \
    && mkdir -p /app/var \
    && chown syndbot:syndbot /app/var
COPY config ./config

# Numeric, so orchestrators can verify the image does not run as root.
USER 10001:10001
# The SQLite state (what was seen, what was posted) and the outbox: keep it across upgrades.
VOLUME ["/app/var"]
# Only used when the config enables [http] listen (set it to "0.0.0.0:8787" in a container).
EXPOSE 8787

HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["syndbot", "health"]

# SIGTERM (docker stop) makes the service finish its current step and exit 0.
STOPSIGNAL SIGTERM
CMD ["syndbot", "run"]
