"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py wsgi:app`.

The scheduler never runs inside these workers; it is its own process (`preservation scheduler`).
Every value can be overridden by the GUNICORN_CMD_ARGS environment variable.
"""

import os

bind = os.environ.get("PRESERVATION_BIND", "127.0.0.1:8000")
# Two workers per core is a reasonable start for an I/O-bound Flask app; each holds its own DB pool.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 4
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# The app logs one JSON line per request with its id; gunicorn's own access log would duplicate it.
accesslog = None
errorlog = "-"
loglevel = "warning"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
