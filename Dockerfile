# Xeno Mini CRM: one image for the web app (default command), `xeno worker` and `xeno db init`.
#   docker build -t xeno-crm .
#   docker run --env-file .env -p 8000:8000 xeno-crm              # gunicorn on :8000
#   docker run --env-file .env xeno-crm xeno worker               # a queue/stream worker
#   docker run --env-file .env xeno-crm xeno db init              # create or upgrade the schema

# --- build: the project as a wheel (the source tree stays out of the final image) ---------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.cfg README.md cli.py ./
COPY xeno ./xeno
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- runtime -------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000 \
    WEB_CONCURRENCY=4 \
    XENO_LOG_FORMAT=json

RUN groupadd --system --gid 10001 xeno \
    && useradd --system --uid 10001 --gid xeno --home-dir /home/xeno --create-home xeno

# Dependencies first, read from setup.cfg alone: this layer is rebuilt only when they change,
# not on every code change.
COPY setup.cfg /tmp/setup.cfg
RUN python -c "import configparser; c = configparser.ConfigParser(); c.read('/tmp/setup.cfg'); print(c['options']['install_requires'])" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/setup.cfg /tmp/requirements.txt

# The app itself. Flask's instance folder for a package installed under /usr/local is
# /usr/local/var/xeno-instance; create_app makes it at start-up, which the unprivileged
# user could not do there, so it is made now and handed over.
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-deps /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && mkdir -p /usr/local/var/xeno-instance \
    && chown xeno:xeno /usr/local/var/xeno-instance

WORKDIR /app
COPY docker/gunicorn.conf.py /app/gunicorn.conf.py

USER 10001:10001
EXPOSE 8000

# Healthy only while the database and the broker answer (urlopen raises on /healthz's 503).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]

# gunicorn.conf.py: bind 0.0.0.0:$PORT, WEB_CONCURRENCY processes, access log on stdout and
# error log on stderr, both one JSON object per line.
CMD ["gunicorn", "--config", "/app/gunicorn.conf.py", "--access-logfile", "-", "xeno:create_app()"]
