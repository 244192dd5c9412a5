"""`make bench-smoke`: the benchmark harness runs end to end on tiny data.

It checks the harness, not the figures: every scenario ran against the project and the baseline,
and the peers' scenarios against each peer, without an error, and the report has every row. No
timing is asserted (the machine is shared).
"""

import json
import subprocess
import sys

import pytest
from bench.report import bulk_cost, task_scans

from tests.support.servers import REPO

pytestmark = [pytest.mark.stack, pytest.mark.timeout(280)]

SCENARIOS = (
    "list", "filtered", "labelled", "deep", "retrieve", "changes", "changes-empty", "trash",
    "shared", "patch", "create",
)  # fmt: skip
APPS = ("project", "baseline")
PEERS = ("fastapi-template", "django-ninja")
PEER_SCENARIOS = ("list", "filtered", "retrieve", "create", "patch")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=260,
    )
    assert finished.returncode == 0, finished.stderr[-5000:]
    (results,) = out.glob("bench-smoke-*.json")
    (markdown,) = out.glob("bench-smoke-*.md")
    return {
        "results": json.loads(results.read_text()),
        "markdown": markdown.read_text(),
        "stdout": finished.stdout,
        "out": out,
    }


def test_every_scenario_ran_against_project_and_baseline(smoke):
    ran = {(run["app"], run["scenario"]) for run in smoke["results"]["runs"]}

    assert ran >= {(app, scenario) for app in APPS for scenario in SCENARIOS}


def test_every_peer_ran_its_scenarios_and_nothing_else(smoke):
    ran = {(run["app"], run["scenario"]) for run in smoke["results"]["runs"]}

    for peer in PEERS:
        assert {scenario for app, scenario in ran if app == peer} == set(PEER_SCENARIOS), peer


def test_the_peers_bodies_were_checked_against_the_projects(smoke):
    # The run stops when a body differs (bench/run.py same_bodies); this says it ran.
    checked = smoke["results"]["peer_bodies"]

    assert checked == {app: ["filtered", "list", "retrieve"] for app in ("project", *PEERS)}


def test_the_peers_section_has_a_ratio_per_peer_and_scenario(smoke):
    markdown = smoke["markdown"]
    section = markdown[markdown.index("## The peers") :].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]

    for peer in PEERS:
        for scenario in PEER_SCENARIOS:
            assert any(
                row.startswith(f"| {scenario}: ") and f"| {peer} |" in row for row in rows
            ), (peer, scenario)
            # Its target line (## Targets).
            assert any(
                line.startswith(f"- {scenario}: ") and f" {peer}'s throughput " in line
                for line in markdown.splitlines()
            ), (peer, scenario)


def test_retrieve_with_a_token_ran_against_the_project_alone(smoke):
    ran = {run["app"] for run in smoke["results"]["runs"] if run["scenario"] == "token-retrieve"}

    assert ran == {"project"}


def test_retrieve_with_a_token_is_one_query_with_no_user_lookup_after_the_first_use(smoke):
    queries = smoke["results"]["queries"]

    token, jwt = queries["token-retrieve"], queries["retrieve"]
    assert (token["status"], token["queries"], token["user_table_queries"]) == (
        200,
        jwt["queries"],
        0,
    )


def test_the_token_target_lines_are_printed(smoke):
    lines = smoke["markdown"].splitlines()

    assert any(
        line.startswith("- token retrieve CPU ≤ 1.1") and line.endswith(("yes", "**NO**"))
        for line in lines
    )
    assert any(line.startswith("- token retrieve after the token's first use: ") for line in lines)


def test_no_run_had_an_error(smoke):
    failed = [
        (run["app"], run["scenario"], run["connections"], run["errors"])
        for run in smoke["results"]["runs"]
        if any(run["errors"].values())
    ]

    assert failed == []


def test_every_run_served_requests(smoke):
    runs = smoke["results"]["runs"]
    idle = [(run["app"], run["scenario"]) for run in runs if not run["requests"]]

    assert idle == []


def test_table_has_a_row_per_scenario_and_is_printed(smoke):
    rows = [line for line in smoke["markdown"].splitlines() if line.startswith("| ")]

    for scenario in (*SCENARIOS, "token-retrieve"):
        assert any(row.startswith(f"| {scenario}: ") for row in rows), scenario
    assert smoke["stdout"] == smoke["markdown"] + "\n"


def test_queries_were_counted_for_every_task_request(smoke):
    queries = smoke["results"]["queries"]

    assert set(SCENARIOS) <= set(queries)
    assert all(entry["queries"] >= 1 for entry in queries.values())


def test_the_changes_feed_was_counted_and_explained_on_the_data_set(smoke):
    feed = smoke["results"]["feed_queries"]["tiny"]

    assert {name: entry["status"] for name, entry in feed.items()} == {
        "changes": 200,
        "changes page_size=500": 200,
        "changes full sync": 200,
        "changes-empty": 200,
    }
    assert "sync_change_feed_idx" in feed["changes"]["plans"][0]
    assert "## The changes feed at tiny tasks" in smoke["markdown"]


def test_the_label_filtered_list_is_one_query_on_the_label_index(smoke):
    labelled = smoke["results"]["label_queries"]["tiny"]["labelled"]

    # The user's projects, then the page: the tasks with their label ids in one query.
    assert (labelled["status"], labelled["queries"]) == (200, 2)
    assert "projects_membership" in labelled["sql"][0]
    assert "tasks_tasklabel" in labelled["sql"][1]
    assert "## The label-filtered list at tiny tasks" in smoke["markdown"]


def test_the_label_filtered_list_is_two_statements_a_request_under_load(smoke):
    (run,) = [
        run
        for run in smoke["results"]["runs"]
        if (run["app"], run["scenario"]) == ("project", "labelled")
    ]

    assert run["statements_per_request"]["sql"] <= 2.01


def test_the_shared_list_was_counted_and_explained_on_the_data_set(smoke):
    shared = smoke["results"]["shared_queries"]["tiny"]

    assert {name: entry["status"] for name, entry in shared.items()} == {
        "shared": 200,
        "shared page_size=100": 200,
        "shared filtered": 200,
    }
    assert all(entry["queries"] <= 2 for entry in shared.values())
    # Each of the member's 21 projects (its Inbox and the 20 shared) by its own index range.
    scans = task_scans(shared["shared"]["plans"])
    assert ("Index Scan Backward", "task_project_created_idx") in {s[:2] for s in scans}
    assert any(loops == 21 for _kind, _index, _rows, loops in scans)
    markdown = smoke["markdown"]
    assert "## The shared list at tiny tasks" in markdown
    assert "EXPLAIN (ANALYZE, BUFFERS) of the shared list's page, tiny" in markdown


def test_memory_of_every_worker_was_read(smoke):
    memory = smoke["results"]["memory_kib"]

    assert set(memory) == {*APPS, *PEERS}
    assert all(kib > 0 for workers in memory.values() for kib in workers.values())


def test_plot_was_written(smoke):
    (png,) = smoke["out"].glob("bench-smoke-*.png")

    assert png.read_bytes().startswith(b"\x89PNG")


def test_bulk_writes_cost_the_same_statements_per_operation_at_every_batch_size(smoke):
    counted = smoke["results"]["bulk_queries"]
    assert all(entry["status"] == 200 for entry in counted.values())

    costs = bulk_cost(counted)

    # Every batch size on one line: the same statements for each operation, whatever the
    # batch's size, plus a fixed few a batch (updates and deletes ask the caller's roles in
    # their tasks' projects once, before the first runs: tasks/bulk.py _authorize).
    assert set(costs) == {"create", "update", "delete"}
    assert all(cost is not None and cost[0] <= 2 for cost in costs.values()), costs
    assert "## Bulk writes: statements per operation" in smoke["markdown"]
