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

if os.environ.get("LOG_FORMAT") == "json":  # gunicorn's own lines (the access log too) as JSON lines
    logconfig_dict = {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": "utilities.logs.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                                 "stream": "ext://sys.stdout"}},
        "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
                    "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    }
    access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'


def child_exit(server: object, worker: object) -> None:
    """A worker gone: its live figures leave the sums of /metrics (prometheus_client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
