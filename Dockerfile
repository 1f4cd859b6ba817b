# syntax=docker/dockerfile:1
# hrdata's API and CLI. Build: docker build -t hrdata .   Run: see docker-compose.yml.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/hrdata
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/hrdata/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/hrdata/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HRDATA_HOME=/var/lib/hrdata
COPY --from=build /opt/hrdata /opt/hrdata
# Fixed numeric ids: scripts/make-secrets gives the secret files compose mounts to group 10001.
RUN groupadd --system --gid 10001 hrdata \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/hrdata --create-home hrdata
USER 10001:10001
WORKDIR /var/lib/hrdata
EXPOSE 8000
# Healthy means the database answers too (/ready is 503 until it does).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=2)"]
ENTRYPOINT ["hrdata"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
