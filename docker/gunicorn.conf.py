"""Gunicorn settings for the container (`gunicorn -c docker/gunicorn.conf.py 'xeno:create_app()'`).

Environment: PORT (8000), WEB_CONCURRENCY (4 processes), GUNICORN_TIMEOUT (60 s),
XENO_LOG_FORMAT (json: access and error lines as JSON objects, like the app's own lines).
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle a process now and then so a slow leak cannot grow a worker's RSS without bound.
max_requests = 2000
max_requests_jitter = 200
# The heartbeat file on tmpfs: a container's overlay filesystem can stall it.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"  # stdout
errorlog = "-"  # stderr

if os.environ.get("XENO_LOG_FORMAT", "json").lower() == "json":
    # Replaces gunicorn's loggers and the root logger; xeno.platform.logs then finds the root
    # configured and adds nothing, so every line of the process is one JSON object.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "xeno.platform.logs.JsonFormatter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            },
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        },
    }
    access_log_format = '%(m)s %(U)s %(s)s'  # the "message"; the fields come from the atoms
