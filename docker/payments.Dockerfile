# The payments service (FastAPI): accounts, verification, plans, payments, handoffs, audit.
# Build from the repository root:  docker build -f docker/payments.Dockerfile -t evenkeel-payments .
# The entrypoint migrates the database, seeds the demo accounts only when SEED_DEMO_DATA=true,
# then starts uvicorn on port 8000.
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app
RUN groupadd --gid 10001 evenkeel \
 && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin evenkeel
WORKDIR /app
COPY requirements/payments.lock requirements/payments.lock
COPY payments/requirements.txt payments/requirements.txt
RUN pip install -r payments/requirements.txt -c requirements/payments.lock
COPY docker/payments-entrypoint.sh /usr/local/bin/payments-entrypoint.sh
RUN chmod 0755 /usr/local/bin/payments-entrypoint.sh
COPY payments/ payments/
COPY contracts/ contracts/
USER 10001:10001
EXPOSE 8000
# Ready = the database answers and is migrated (GET /health is plain liveness).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/health/ready', timeout=4)"]
ENTRYPOINT ["payments-entrypoint.sh"]
