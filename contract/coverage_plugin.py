"""pytest plugin: which test made which request, as seen by the app's access log.

Load it with `pytest -p contract.coverage_plugin`. It writes one JSON line per request to
`<dir>/session-<run>.jsonl` (default dir: build/contract-coverage; option
--contract-coverage-dir), and `python -m contract.coverage_report openapi.yaml
build/contract-coverage` turns the files of every run into the contract-coverage table.

`<run>` is a digest of the pytest arguments: `make test` runs pytest twice (the whole suite on
SQLite, then the API tests on PostgreSQL) into the same directory, and the second run must add
its records to the first's, not replace them. Repeating the same command replaces only its own
file; `make test` empties the directory first. Under pytest-xdist each worker writes its own
`session-<run>-<worker>.jsonl` (the controller's digest, so that a rerun replaces them all).

Three sources:
- in-process requests (DRF APIClient, Django's test client): a handler on the "taskapi.access"
  logger records them under the test that is running;
- live servers started through tests.support.servers: their log files are read at the end of the
  session, and each access line is attributed through its request id, which the test's HttpClient
  derives from the test's node id (`request_id_prefix(nodeid)`);
- a test may claim a whole server log (`claim_server_log`), e.g. the Schemathesis run, whose
  requests are not sent by pytest code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ACCESS_LOGGER = "taskapi.access"
DEFAULT_DIR = "build/contract-coverage"
UNATTRIBUTED = "(live server, request not sent by a test's HttpClient)"
_TEST_REQUEST_ID = re.compile(r"^test-([0-9a-f]{16})-")


def request_id_prefix(nodeid: str) -> str:
    """The X-Request-ID prefix that ties a live-server request to the test that sent it.

    tests/support/servers.py computes the same (it does not import this module).
    """
    return f"test-{hashlib.sha256(nodeid.encode()).hexdigest()[:16]}-"


@dataclass
class _Claim:
    default_test: str
    by_request_id_prefix: dict[str, str] = field(default_factory=dict)

    def test_for(self, request_id: str | None) -> str:
        for prefix, test in self.by_request_id_prefix.items():
            if request_id and request_id.startswith(prefix):
                return test
        return self.default_test


_claims: dict[Path, _Claim] = {}


def claim_server_log(
    path: Path, *, default_test: str, by_request_id_prefix: dict[str, str] | None = None
) -> None:
    """Attribute every access line of this server log to `default_test` (or by request id)."""
    _claims[Path(path).resolve()] = _Claim(default_test, dict(by_request_id_prefix or {}))


def access_lines(log_path: Path) -> Iterator[dict]:
    """The access-log records of one server log (JSON lines of the "taskapi.access" logger)."""
    for line in log_path.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("logger") == ACCESS_LOGGER and "status" in record:
            yield record


def _row(test: str, source: str, record: dict | logging.LogRecord) -> dict:
    get = record.get if isinstance(record, dict) else lambda key: getattr(record, key, None)
    return {
        "test": test,
        "source": source,
        "method": get("method"),
        "path": get("path"),
        "route": get("route"),
        "status": get("status"),
    }


class _InProcessHandler(logging.Handler):
    def __init__(self, recorder: CoverageRecorder) -> None:
        super().__init__(level=logging.INFO)
        self.recorder = recorder

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "status", None) is None:
            return
        test = self.recorder.current_test or "(outside any test)"
        self.recorder.rows.append(_row(test, "in-process", record))


class CoverageRecorder:
    def __init__(self, config: pytest.Config) -> None:
        self.directory = Path(config.getoption("contract_coverage_dir"))
        if not self.directory.is_absolute():
            self.directory = Path(config.rootpath) / self.directory
        self.current_test: str | None = None
        self.rows: list[dict] = []
        self.test_by_prefix: dict[str, str] = {}
        self.handler = _InProcessHandler(self)
        self.basetemp: Path | None = None
        run = hashlib.sha256("\0".join(config.invocation_params.args).encode()).hexdigest()
        self.run = getattr(config, "workerinput", {}).get("contract_coverage_run", run[:16])
        worker = getattr(config, "workerinput", {}).get("workerid")
        self.output = self.directory / f"session-{self.run}{f'-{worker}' if worker else ''}.jsonl"

    # --- pytest hooks ------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:  # type: ignore[no-untyped-def]
        node.workerinput["contract_coverage_run"] = self.run  # xdist: the workers' file names

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.output.unlink(missing_ok=True)
        if not hasattr(session.config, "workerinput"):
            for stale in self.directory.glob(f"session-{self.run}-*.jsonl"):
                stale.unlink()
        logger = logging.getLogger(ACCESS_LOGGER)
        logger.addHandler(self.handler)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.test_by_prefix[request_id_prefix(item.nodeid)] = item.nodeid

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        self.current_test = item.nodeid
        try:
            return (yield)
        finally:
            self.current_test = None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        logging.getLogger(ACCESS_LOGGER).removeHandler(self.handler)
        if session.config.pluginmanager.has_plugin("dsession"):
            return  # the xdist controller: it runs no test, and its tmp dir holds the workers'
        try:
            self.basetemp = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
        except (AttributeError, OSError):
            self.basetemp = None
        for log_path in self._server_logs():
            self._read_server_log(log_path)
        with self.output.open("w") as handle:
            for row in self.rows:
                handle.write(json.dumps(row) + "\n")

    # --- live servers ------------------------------------------------------------------------

    def _server_logs(self) -> list[Path]:
        found: dict[Path, None] = {}
        servers = sys.modules.get("tests.support.servers")
        for path in getattr(servers, "SERVER_LOGS", ()):
            found[Path(path).resolve()] = None
        for path in _claims:
            found[path] = None
        if self.basetemp is not None and self.basetemp.exists():
            for path in sorted(self.basetemp.rglob("uvicorn-*.log")):
                found[path.resolve()] = None
        return [path for path in found if path.exists()]

    def _read_server_log(self, log_path: Path) -> None:
        claim = _claims.get(log_path)
        for record in access_lines(log_path):
            request_id = record.get("request_id")
            if claim is not None:
                test = claim.test_for(request_id)
            else:
                match = _TEST_REQUEST_ID.match(request_id or "")
                test = self.test_by_prefix.get(match.group(0), UNATTRIBUTED) if match else None
                test = test or UNATTRIBUTED
            self.rows.append(_row(test, "live", record))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--contract-coverage-dir",
        default=DEFAULT_DIR,
        help="where contract.coverage_plugin writes its request records (default: %(default)s)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(CoverageRecorder(config), "contract-coverage-recorder")
