"""Retrieve with a personal access token (issue 27) in the benchmark: who serves it, the tokens
the harness makes, and the target lines both harnesses print. No timing is asserted: the
figures below are made up, and the lines are what is checked."""

import argparse

import pytest
from bench.django_side import _personal_tokens
from bench.inprocess import _requests_per_token
from bench.inprocess import targets as inprocess_targets
from bench.report import _token_targets
from bench.run import APPS, FLOOR_APPS, PEER_APPS, VARIANTS
from rest_framework.test import APIClient

from tests.factories import TaskFactory


def test_only_the_project_and_its_variants_measure_retrieve_with_a_token():
    apps = {**APPS, **VARIANTS, **FLOOR_APPS, **PEER_APPS}

    measuring = {name for name, spec in apps.items() if spec.measures("token-retrieve")}

    assert measuring == {"project", *VARIANTS}


@pytest.mark.django_db
def test_the_benchmarks_personal_token_retrieves_its_users_task():
    task = TaskFactory()
    owner = task.created_by_id

    made = _personal_tokens([owner])

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {made['tokens'][str(owner)]}")
    assert client.get(f"/tasks/{task.pk}/").status_code == 200
    # Read scope only: the benchmark's token cannot write.
    assert client.patch(f"/tasks/{task.pk}/", {"title": "x"}, format="json").status_code == 403


def test_the_inprocess_target_is_the_median_of_the_rounds_ratios():
    # Load moves both figures from round to round; the ratio within a round holds.
    figures = {"HEAD": {"retrieve": [1.0, 2.0, 1.0], "token-retrieve": [1.05, 2.1, 1.3]}}

    (line,) = inprocess_targets(figures, "HEAD")

    assert line.startswith("- token retrieve CPU ≤ 1.1x JWT retrieve, HEAD: 1.05x ")
    assert line.endswith(": yes")


def test_the_inprocess_target_says_no_above_the_target():
    figures = {"HEAD": {"retrieve": [1.0, 1.0, 1.0], "token-retrieve": [1.2, 1.3, 1.4]}}

    (line,) = inprocess_targets(figures, "HEAD")

    assert "HEAD: 1.30x " in line
    assert line.endswith(": **NO**")


def test_the_default_limits_line_names_the_limits_it_ran_at():
    figures = {
        "HEAD": {"retrieve": [1.0], "token-retrieve": [1.0]},
        "HEAD, default token limits": {"retrieve": [1.0], "token-retrieve": [1.2]},
    }
    limits_of = {"HEAD, default token limits": ("HEAD", "600/minute, 1200/minute")}

    lines = inprocess_targets(figures, "HEAD", limits_of)

    assert "the default limits (600/minute, 1200/minute)" in lines[1]
    assert lines[1].endswith(": **NO**")


def test_the_inprocess_queries_line_compares_reads_after_the_first_use():
    figures = {"HEAD": {"retrieve": [1.0], "token-retrieve": [1.0]}}
    counts = {
        "HEAD": {
            "retrieve": {"reads": 1.0, "writes": 0.0, "transaction": 0.0},
            "token-retrieve": {"reads": 2.0, "writes": 0.0, "transaction": 0.0},
        }
    }

    lines = inprocess_targets(figures, "HEAD", None, counts)

    assert lines[-1].endswith("HEAD: 2.00 / 1.00 reads a request: **NO**")


def test_a_run_at_the_default_limits_counts_every_request_a_token_gets():
    args = argparse.Namespace(rounds=5, requests=500)

    # 5 rounds of 500 and a warm-up of 50, then 100 counted, over 20 tokens in turn.
    assert _requests_per_token(args, ["retrieve", "token-retrieve"]) == 143
    assert _requests_per_token(args, ["retrieve"]) == 0


def _run(scenario: str, cpu: float, reads: float, sql: float) -> dict:
    return {
        "app": "project",
        "dataset": "10k",
        "scenario": scenario,
        "connections": 64,
        "cpu_ms_per_request": cpu,
        "statements_per_request": {"sql": sql, "reads": reads, "transaction": 0.0},
    }


def _results(token_reads: float) -> dict:
    return {
        "datasets": {"10k": {}},
        "config": {"connections": 64},
        "runs": [_run("retrieve", 2.0, 1.0, 1.0), _run("token-retrieve", 2.1, token_reads, 1.03)],
        "queries": {
            "retrieve": {"queries": 1, "user_table_queries": 0},
            "token-retrieve": {"queries": 1, "user_table_queries": 0},
        },
    }


def test_the_report_prints_the_token_targets():
    cpu, statements = _token_targets(_results(token_reads=1.0))

    times = "\N{MULTIPLICATION SIGN}"  # as the report prints it
    assert cpu == (
        f"token retrieve CPU ≤ 1.1{times} JWT retrieve: 1.05{times} "
        "(2.10 / 2.00 ms per request): yes"
    )
    # last_used_at's writes once a minute are not lookups.
    assert "under load 1.000 reads and 0.030 writes" in statements
    assert statements.endswith(": yes")


def test_the_report_refuses_a_read_per_token_request_under_load():
    _cpu, statements = _token_targets(_results(token_reads=1.5))

    assert statements.endswith(": **NO**")
