"""Metrics under several Uvicorn workers: prometheus_client's multiprocess mode."""

import re

import requests

from tests.support.servers import app_environment, migrate, start_uvicorn


def test_metrics_add_up_across_workers(tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = app_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    migrate(env)
    server = start_uvicorn(env, workdir=tmp_path, workers=2)
    try:
        for _ in range(40):  # a new connection each: the kernel spreads them over the workers
            assert requests.get(f"{server.base_url}/health/", timeout=5).status_code == 200
        scraped = [requests.get(f"{server.base_url}/metrics", timeout=5).text for _ in range(4)]
    finally:
        server.stop()

    writers = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}
    assert len(writers) == 2  # both workers counted requests, each in its own file
    for text in scraped:  # whichever worker answers the scrape, it reports the sum
        match = re.search(
            r'^django_http_responses_total_by_status_view_method_total\{method="GET",'
            r'status="200",view="healthLive"\} ([0-9.]+)$',
            text,
            re.M,
        )
        assert match and float(match[1]) >= 40
