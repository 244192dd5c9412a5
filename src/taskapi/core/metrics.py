"""GET /metrics: django-prometheus' registry (per process, or summed over the processes'
files in multiprocess mode), plus collectors that other apps register, read at scrape time.

A registered collector reports state every instance sees alike (rows in the shared database,
such as webhook queue depth), so it is added to the page directly rather than summed over
processes.
"""

import os

import prometheus_client
from django.http import HttpRequest, HttpResponse
from prometheus_client import multiprocess
from prometheus_client.registry import Collector

_collectors: list[Collector] = []


def collector_register(collector: Collector) -> None:
    if collector not in _collectors:
        _collectors.append(collector)


def _registry() -> prometheus_client.CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return prometheus_client.REGISTRY


def metrics_view(request: HttpRequest) -> HttpResponse:
    page = prometheus_client.generate_latest(_registry())
    shared = prometheus_client.CollectorRegistry(auto_describe=False)
    for collector in _collectors:
        shared.register(collector)
    page += prometheus_client.generate_latest(shared)
    return HttpResponse(page, content_type=prometheus_client.CONTENT_TYPE_LATEST)
