# The rasa server: NLU + dialogue model, REST/Twilio/web chat channels (channels/), HTTP API.
# Build from the repository root:  docker build -f docker/rasa.Dockerfile -t evenkeel-rasa .
# The model is trained at build time, so an image is one model; configuration comes from the
# environment at run time (see docker-compose.yml and bot/endpoints.production.yml).

# --- 1. dependencies: a virtualenv built with compilers at hand, copied into the runtime image ---
FROM python:3.10-slim AS deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements/rasa.lock requirements/rasa.lock
COPY bot/requirements.txt bot/requirements.txt
COPY channels/requirements.txt channels/requirements.txt
RUN pip install -r bot/requirements.txt -r channels/requirements.txt -c requirements/rasa.lock

# --- 2. training: only the model file leaves this stage (not Rasa's .rasa/ cache) ---
FROM deps AS train
ENV RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    PYTHONPATH=/app
COPY bot/ bot/
COPY data/ data/
COPY channels/ channels/
COPY contracts/ contracts/
COPY clients/ clients/
RUN rasa train --config bot/config.yml --domain bot/domain --data data \
      --out models --fixed-model-name evenkeel --quiet

# --- 3. runtime ---
FROM python:3.10-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    MPLCONFIGDIR=/tmp/matplotlib
RUN groupadd --gid 10001 evenkeel \
 && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin evenkeel
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY bot/ bot/
COPY channels/ channels/
COPY contracts/ contracts/
COPY clients/ clients/
COPY --from=train /app/models/evenkeel.tar.gz models/evenkeel.tar.gz
USER 10001:10001
EXPOSE 5005
# GET / answers "Hello from Rasa" without auth once the server is up (the model loads first).
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:5005/', timeout=4)"]
# Shell form so $RASA_AUTH_TOKEN expands; `exec` makes rasa PID 1 (it gets SIGTERM); an unset or
# empty token stops the container instead of serving the API without authentication.
CMD exec rasa run --enable-api --auth-token "${RASA_AUTH_TOKEN:?RASA_AUTH_TOKEN must be set}" \
    --model models/evenkeel.tar.gz --endpoints bot/endpoints.production.yml \
    --credentials bot/credentials.production.yml --port 5005
