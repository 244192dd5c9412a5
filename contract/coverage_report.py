"""Contract coverage: for every (operation, documented status), which tests reach it.

    python -m contract.coverage_report openapi.yaml build/contract-coverage

Reads the request records contract.coverage_plugin wrote (*.jsonl), prints one row per
documented (operation, status) pair with the number of tests that reached it and a few of their
names, then the statuses the server returned that the contract does not document. Exits 1 when
a documented status is reached by no test or an undocumented one was returned.

Requests to paths outside the contract (test-only `_faults/...` routes, static files) are
ignored. A method the contract does not list on a known path must get 405 (or, on a path that
requires a token, the 401 that comes first): that is what the contract's introduction promises.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SAMPLE_TESTS = 3


@dataclass
class Operation:
    method: str
    path: str
    operation_id: str
    statuses: list[str]
    secured: bool

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass
class ContractPath:
    template: str
    pattern: re.Pattern[str]
    shape: str
    operations: dict[str, Operation] = field(default_factory=dict)

    @property
    def secured(self) -> bool:
        return any(operation.secured for operation in self.operations.values())


def _shape(template: str) -> str:
    """A path with its parameters blanked: "/tasks/{id}/" and "tasks/<int:task_id>/" agree."""
    template = "/" + template.lstrip("/")
    return re.sub(r"\{[^}]+\}|<[^>]+>", "{}", template)


def load_contract(path: Path) -> list[ContractPath]:
    spec = yaml.safe_load(path.read_text())
    top_security = spec.get("security") or []
    paths = []
    for template, item in (spec.get("paths") or {}).items():
        regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        contract_path = ContractPath(template, re.compile(regex), _shape(template))
        for method in HTTP_METHODS:
            definition = item.get(method)
            if definition is None:
                continue
            security = definition.get("security", top_security)
            contract_path.operations[method] = Operation(
                method=method,
                path=template,
                operation_id=definition.get("operationId", f"{method} {template}"),
                statuses=[str(status) for status in definition.get("responses", {})],
                secured=bool(security) and {} not in security,
            )
        paths.append(contract_path)
    # Concrete paths match before templated ones (OpenAPI's own rule).
    paths.sort(key=lambda p: (p.template.count("{"), p.template))
    return paths


def find_path(
    paths: list[ContractPath], route: str | None, path: str | None
) -> ContractPath | None:
    if route is not None:
        shape = _shape(route)
        for candidate in paths:
            if candidate.shape == shape:
                return candidate
    if path is not None:
        for candidate in paths:
            if candidate.pattern.match(path):
                return candidate
    return None


def documented_key(operation: Operation, status: int) -> str | None:
    """The responses key that documents `status` for `operation` ("404", "4XX", "default")."""
    for key in (str(status), f"{status // 100}XX", "default"):
        if key in operation.statuses or key.lower() in operation.statuses:
            return key
    return None


def load_records(directory: Path) -> list[dict]:
    records = []
    for file in sorted(directory.glob("*.jsonl")):
        for line in file.read_text().splitlines():
            if line.strip():
                records.append(json.loads(line))
    return records


@dataclass
class Coverage:
    reached: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    undocumented: dict[tuple[str, int], set[str]] = field(default_factory=lambda: defaultdict(set))
    undocumented_paths: dict[tuple[str, int], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    outside: int = 0
    requests: int = 0


def measure(paths: list[ContractPath], records: list[dict]) -> Coverage:
    coverage = Coverage()
    for record in records:
        coverage.requests += 1
        method, status, test = record["method"].lower(), int(record["status"]), record["test"]
        contract_path = find_path(paths, record.get("route"), record.get("path"))
        if contract_path is None:
            coverage.outside += 1
            continue
        operation = contract_path.operations.get(method)
        if operation is None and method == "head":
            operation = contract_path.operations.get("get")
        if operation is None:
            allowed = {405} | ({401} if contract_path.secured else set())
            if status not in allowed:
                label = f"{method.upper()} {contract_path.template} (method not in the contract)"
                coverage.undocumented[(label, status)].add(test)
                coverage.undocumented_paths[(label, status)].add(record.get("path") or "")
            continue
        key = documented_key(operation, status)
        if key is None:
            coverage.undocumented[(operation.label, status)].add(test)
            coverage.undocumented_paths[(operation.label, status)].add(record.get("path") or "")
        else:
            coverage.reached[(operation.label, key)].add(test)
    return coverage


def _sample(tests: set[str]) -> str:
    names = sorted(tests)
    shown = ", ".join(names[:SAMPLE_TESTS])
    return shown + (f", ... (+{len(names) - SAMPLE_TESTS})" if len(names) > SAMPLE_TESTS else "")


def render(paths: list[ContractPath], coverage: Coverage) -> tuple[str, int, int, int]:
    rows = []
    missing = 0
    total = 0
    for contract_path in sorted(paths, key=lambda p: p.template):
        for operation in contract_path.operations.values():
            for status in operation.statuses:
                total += 1
                tests = coverage.reached.get((operation.label, status), set())
                if not tests:
                    missing += 1
                rows.append(
                    (
                        operation.operation_id,
                        operation.label,
                        status,
                        str(len(tests)) if tests else "MISSING",
                        _sample(tests),
                    )
                )
    header = ("operation", "request", "status", "tests", "reached by")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
    lines = ["Contract coverage: documented (operation, status) pairs and the tests reaching them"]
    for row in [header, *rows]:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    lines.append("")
    lines.append(
        f"{total - missing}/{total} documented statuses reached; {missing} reached by no test; "
        f"{coverage.requests} requests recorded, {coverage.outside} outside the contract."
    )
    if coverage.undocumented:
        lines.append("")
        lines.append("Statuses the server returned that the contract does not document:")
        for (label, status), tests in sorted(coverage.undocumented.items()):
            example_paths = sorted(coverage.undocumented_paths[(label, status)])[:3]
            lines.append(f"  {label} -> {status}  e.g. {', '.join(example_paths)}")
            lines.append(f"      by {len(tests)} test(s): {_sample(tests)}")
    return "\n".join(lines), total, missing, len(coverage.undocumented)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("contract", type=Path)
    parser.add_argument("records", type=Path, help="directory of *.jsonl request records")
    args = parser.parse_args(argv)
    records = load_records(args.records) if args.records.is_dir() else []
    if not records:
        print(
            f"No request records in {args.records}: run the suite with "
            "`pytest -p contract.coverage_plugin` first.",
            file=sys.stderr,
        )
        return 1
    paths = load_contract(args.contract)
    text, _total, missing, undocumented = render(paths, measure(paths, records))
    print(text)
    return 1 if missing or undocumented else 0


if __name__ == "__main__":
    sys.exit(main())
