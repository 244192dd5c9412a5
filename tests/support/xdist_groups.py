"""pytest plugin: run the suite on several cores (pytest-xdist) and still start each shared
server once per pass. Loaded everywhere by pyproject's addopts; it does nothing without `-n`.

`make test` runs `pytest -n 2 --dist loadgroup`. Tests linked by a shared session-, module- or
class-scoped fixture of this project (the live app, the stack, the benchmark's smoke run, ...)
form one group, and a group runs on one worker: its fixtures are set up once, not once per
worker. The longest work is queued first, so that no core is left alone with a long tail.

Why not xdist's own `xdist_group` marks: xdist 3.8 passes a test's group to the scheduler by
appending it to the test's node id, which pytest 9.2's structured node ids no longer take (the
marks are silently ignored: pytest-dev/pytest-xdist#1386). Here the workers write the groups
to a file that the controller's scheduler reads, and node ids stay as they are (the JUnit XML,
SECURITY.md's test names and the contract-coverage records name tests by them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# Shared fixtures cheap enough to make once per worker: no reason to keep their tests together.
# (pg_server: a private cluster starts in about a second; each stack has its own database.)
PER_WORKER = {"pg_server", "release", "rendered_overlays"}
REPO = Path(__file__).resolve().parents[2]
SUITES = (REPO / "tests", REPO / "contract")
# The longest work first: seconds each took in a `make test` run on 2 cores (pytest
# --durations, the JUnit XML in build/test-results), longest first.
LONGEST_FIRST = (
    "contract/test_schemathesis.py",
    "tests/bench/test_bench_smoke.py",
    "tests/stack/test_load.py",
    "tests/stack/",
    "contract/test_compat.py",
    "contract/test_clients.py",
)
GROUPS_FILE = "taskapi_xdist_groups"


def _shared_fixtures(item: pytest.Item) -> list[str]:
    """The fixtures of this project that `item` shares with other tests: session-scoped ones
    by name, module- or class-scoped ones by name within their module or class."""
    keys = []
    for name in item.fixturenames:
        definitions = item._fixtureinfo.name2fixturedefs.get(name)  # type: ignore[attr-defined]
        if not definitions or name in PER_WORKER:
            continue
        definition = definitions[-1]
        if definition.scope == "function" or not _defined_here(definition.func):
            continue
        if definition.scope in ("session", "package"):
            keys.append(name)
        elif definition.scope == "module":
            keys.append(f"{item.nodeid.split('::')[0]}::{name}")
        else:
            keys.append(f"{item.nodeid.rsplit('::', 1)[0]}::{name}")
    return keys


def _defined_here(function) -> bool:  # type: ignore[no-untyped-def]
    try:
        path = Path(function.__code__.co_filename).resolve()
    except AttributeError:
        return False
    return any(path.is_relative_to(suite) for suite in SUITES)


def groups(items: list[pytest.Item]) -> dict[str, str]:
    """node id -> group, for the tests linked to others by a shared fixture."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    shared = {item.nodeid: _shared_fixtures(item) for item in items}
    for keys in shared.values():
        for key in keys[1:]:
            parent[root(key)] = root(keys[0])
    return {nodeid: root(keys[0]) for nodeid, keys in shared.items() if keys}


def _rank(item: pytest.Item) -> int:
    for index, prefix in enumerate(LONGEST_FIRST):
        if item.nodeid.startswith(prefix):
            return index
    return len(LONGEST_FIRST)


# --- in each worker ---------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):  # type: ignore[no-untyped-def]
    # A wrapper: the order is set after pytest-django's (database tests first) has run.
    result = yield
    path = getattr(config, "workerinput", {}).get(GROUPS_FILE)
    if path is None:  # not an xdist worker: one process runs them all
        return result
    # A stable sort: pytest-django's order (database tests before transactional ones) holds
    # within each rank.
    items.sort(key=_rank)
    # Every worker collects the same tests and writes the same file; the rename is atomic.
    partial = Path(f"{path}.{os.getpid()}")
    partial.write_text(json.dumps(groups(items)))
    partial.replace(path)
    return result


# --- in the controller ------------------------------------------------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # type: ignore[no-untyped-def]
    basetemp = node.config._tmp_path_factory.getbasetemp()
    node.workerinput[GROUPS_FILE] = str(basetemp / "xdist-groups.json")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # type: ignore[no-untyped-def]
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """xdist's loadscope, with the groups the workers wrote as scopes (a test that shares
        nothing is a scope of its own), in the order the workers collected them."""

        def __init__(self, config: pytest.Config, log) -> None:  # type: ignore[no-untyped-def]
            super().__init__(config, log)
            config.option.loadscopereorder = False  # the workers' order: the longest first
            self.path = config._tmp_path_factory.getbasetemp() / "xdist-groups.json"  # type: ignore[attr-defined]
            self.groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                # No file: no worker collected anything to group (each test its own scope).
                exists = self.path.exists()
                self.groups = json.loads(self.path.read_text()) if exists else {}
            return self.groups.get(nodeid, nodeid)

    return GroupScheduling(config, log)
