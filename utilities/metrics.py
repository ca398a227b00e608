"""GET /metrics in Prometheus's text format (prometheus_client), and the figures every request gives.

Who may read it: a request from this machine (REMOTE_ADDR a loopback address: 127.0.0.0/8, ::1; not forwarded
by a proxy unless settings.TRUSTED_PROXIES says the proxies are ours, and then the client they name is on this
machine), or one bearing settings.METRICS_TOKEN (`Authorization: Bearer ...`, compared in constant time).
Anyone else gets 404, as for a page that does not exist.

Several processes: gunicorn's workers and the Celery workers each count on their own. With PROMETHEUS_MULTIPROC_DIR
set (the launcher sets it to a folder of the node's own, emptied at start), prometheus_client writes each process's
figures to files there and a scrape adds them up (MultiProcessCollector); gunicorn's child_exit hook marks a dead
worker's files (coalition/gunicorn.conf.py). Figures read at scrape time (the queues' lengths, the data version)
are collectors registered with `at_scrape`; the apps register theirs when they are ready.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from utilities.middleware import client_ip

logger = logging.getLogger(__name__)

REQUESTS = Counter("coalition_http_requests", "HTTP requests answered, by view and status.",
                   ["view", "method", "status"])
LATENCY = Histogram("coalition_http_request_duration_seconds", "Time to answer a request, by view.", ["view"],
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")

_at_scrape: list[Collector] = []


def at_scrape(collector: Collector) -> None:
    """Have `collector` read its figures at every scrape (in the scraping process: nothing to add up)."""
    if not any(type(known) is type(collector) for known in _at_scrape):
        _at_scrape.append(collector)


class _Default(Collector):
    """This process's own figures, when there is no multiprocess folder to add up."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Default())
    for collector in _at_scrape:
        registry.register(collector)
    return generate_latest(registry)


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


def may_read(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    if token and header[:7].lower() == "bearer " and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    if not _is_loopback(str(request.META.get("REMOTE_ADDR", ""))):
        return False
    if any(request.META.get(name) for name in FORWARDED_HEADERS):
        # A proxy on this machine passing on someone else's request: only a proxy of ours is believed, and then
        # the client it names must be on this machine too.
        return bool(settings.TRUSTED_PROXIES) and _is_loopback(client_ip(request))
    return True


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read(request):
        raise Http404("Not found.")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


def view_name(request: HttpRequest) -> str:
    """The view's name as the URL configuration gives it (never the path: ids would make a figure per object)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    return match.view_name or match.route or "<unnamed>"


class RequestMetricsMiddleware:
    """Counts every answer by view and status, and its time; first of all middleware, so that the guards' early
    answers (413) are counted too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_name(request)
        LATENCY.labels(view).observe(time.perf_counter() - started)
        REQUESTS.labels(view, request.method or "", str(response.status_code)).inc()
        return response


def redis_queue_lengths(url: str, queues: Iterable[str]) -> Iterator[tuple[str, int]]:
    """LLEN of each Celery queue in Redis (kombu keeps a queue's priorities in keys of their own), or nothing when
    Redis does not answer."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        with client.pipeline(transaction=False) as pipe:
            names = list(queues)
            for name in names:
                for suffix in ("", "\x06\x163", "\x06\x166", "\x06\x169"):
                    pipe.llen(name + suffix)
            lengths = pipe.execute()
    except (redis.RedisError, OSError):
        logger.warning("metrics: Redis did not answer; no queue lengths")
        return
    for index, name in enumerate(names):
        yield name, sum(int(length) for length in lengths[index * 4:index * 4 + 4])


class QueueLengthCollector(Collector):
    """How many messages wait in each Celery queue (the default one and those of settings.CELERY_TASK_ROUTES)."""

    def collect(self) -> Iterable[Metric]:
        queues = {"celery", *(route.get("queue", "celery") for route in settings.CELERY_TASK_ROUTES.values())}
        up = GaugeMetricFamily("coalition_queue_up", "Whether Redis answered for the queue lengths.")
        family = GaugeMetricFamily("coalition_queue_length", "Messages waiting in a Celery queue.", labels=["queue"])
        found = list(redis_queue_lengths(settings.REDIS_URL, sorted(queues)))  # the broker's Redis
        for name, length in found:
            family.add_metric([name], length)
        up.add_metric([], 1 if found else 0)
        return [up, family]


at_scrape(QueueLengthCollector())
