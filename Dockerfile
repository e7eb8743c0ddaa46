# syntax=docker/dockerfile:1
# The API image for Render's free tier (512 MB) or any container host.
#
#   docker build -t movierec .                                  # publishes a release if data/raw/ holds the CSVs
#   docker build --build-arg MOVIEREC_RAW_URL=https://…/archive.zip -t movierec .   # or downloads them
#   docker run -p 8000:8000 movierec                            # serves on $PORT (default 8000)
#
# Without raw data at build time, mount a data folder holding a published release:
#   docker run -p 8000:8000 -v "$PWD/data:/app/data" movierec
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    MOVIEREC_DATA_DIR=/app/data \
    MPLCONFIGDIR=/app/.matplotlib \
    PORT=8000

RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app

# Dependencies first (cached while uv.lock does not change), then the project.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
RUN uv sync --frozen --no-dev \
    && .venv/bin/python -c "import matplotlib.pyplot"  # the report's font cache, built once here

# Publish a release at build time when raw data is available: data/raw/ in the build context
# (bind-mounted, so the CSVs do not end up in a layer), or an archive at MOVIEREC_RAW_URL.
ARG MOVIEREC_RAW_URL=""
RUN --mount=type=bind,source=.,target=/context \
    set -eu; \
    raw=""; \
    if [ -n "$MOVIEREC_RAW_URL" ]; then \
        mkdir -p /tmp/raw; \
        python -c "import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], '/tmp/raw.zip')" "$MOVIEREC_RAW_URL"; \
        python -m zipfile -e /tmp/raw.zip /tmp/raw; rm /tmp/raw.zip; raw=/tmp/raw; \
    elif ls /context/data/raw/movies_metadata.csv* >/dev/null 2>&1; then \
        raw=/context/data/raw; \
    fi; \
    if [ -n "$raw" ]; then \
        .venv/bin/movierec pipeline --raw "$raw" --data "$MOVIEREC_DATA_DIR"; \
        rm -rf /tmp/raw; \
    else \
        echo "no raw data in the build: mount a data folder with a published release at $MOVIEREC_DATA_DIR"; \
    fi

EXPOSE 8000
# `movierec serve` reads the port from $PORT (Render sets it) and the data folder from MOVIEREC_DATA_DIR.
CMD [".venv/bin/movierec", "serve", "--host", "0.0.0.0"]
