"""gunicorn settings for every way the web process runs (make run, the Dockerfile, docker-compose).

Sync workers: one request at a time per process, so one database connection per process however many
requests arrive (CONN_MAX_AGE keeps it open between requests); more users, more processes (WEB_CONCURRENCY)
or machines. A worker that hangs is killed after `timeout` and replaced; each is recycled after
`max_requests` so that no slow leak grows for ever.
"""

import os

bind = os.environ.get("COALITION_ADDRESS", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "sync"
timeout = 60
graceful_timeout = 20
keepalive = 5
max_requests = 1000
max_requests_jitter = 100
backlog = 2048  # requests beyond the workers wait here rather than being refused
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("DJANGO_FORWARDED_ALLOW_IPS", "127.0.0.1")
