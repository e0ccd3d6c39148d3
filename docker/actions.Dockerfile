# The action server: custom actions (actions/), rasa-sdk only: no rasa, no database, no vendor SDK;
# it talks to the payments service over HTTP (PAYMENTS_URL, PAYMENTS_SERVICE_TOKEN).
# Build from the repository root:  docker build -f docker/actions.Dockerfile -t evenkeel-actions .
FROM python:3.10-slim
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app
RUN groupadd --gid 10001 evenkeel \
 && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin evenkeel
WORKDIR /app
COPY requirements/rasa.lock requirements/rasa.lock
COPY actions/requirements.txt actions/requirements.txt
# The same pins as the local rasa environment; constraints install only what is required.
RUN pip install -r actions/requirements.txt -c requirements/rasa.lock
COPY contracts/ contracts/
COPY clients/ clients/
COPY actions/ actions/
USER 10001:10001
EXPOSE 5055
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:5055/health', timeout=4)"]
# Our entry point, not rasa-sdk's: binds ACTIONS_HOST:ACTIONS_PORT and answers only with
# ACTION_SERVER_TOKEN (actions/server.py).
CMD ["python", "-m", "actions.server"]
