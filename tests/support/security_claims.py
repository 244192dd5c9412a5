"""Bind SECURITY.md to the test run: every test it names must exist and have passed.

Usage: python -m tests.support.security_claims SECURITY.md build/test-results/*.xml

SECURITY.md names tests by pytest node id in backticks, e.g.
`tests/accounts/test_tokens.py::test_alg_none_token_is_refused`. A name without a parameter
suffix covers every parametrised case of that test; all of them must pass, and at least one must
have run. The JUnit XML reports are the ones pytest wrote in the same `make test` run.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

CLAIM = re.compile(r"`((?:tests|contract)/[\w/]+\.py::[\w\[\]\-.,/ ]+)`")


def claimed_tests(markdown: str) -> list[str]:
    return sorted(set(CLAIM.findall(markdown)))


def outcomes(reports: list[Path]) -> dict[str, list[str]]:
    """node id (path::name[param]) → outcomes of every run of it across the reports."""
    results: dict[str, list[str]] = defaultdict(list)
    for report in reports:
        for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 (our own pytest reports)
            module = case.get("classname", "")
            # pytest's junit classname is the dotted module path (plus a class, if any).
            path = module.replace(".", "/") + ".py"
            if not Path(path).exists():
                parts = module.split(".")
                path = "/".join(parts[:-1]) + ".py"  # a test class: drop its name
            outcome = "passed"
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    outcome = child.tag
            results[f"{path}::{case.get('name')}"].append(outcome)
    return results


def problems(claims: list[str], results: dict[str, list[str]]) -> list[str]:
    found = []
    for claim in claims:
        runs = [
            outcome
            for node, node_outcomes in results.items()
            if node == claim or (node.startswith(claim + "[") and "[" not in claim)
            for outcome in node_outcomes
        ]
        if not runs:
            found.append(f"{claim}: no such test ran")
        elif any(outcome != "passed" for outcome in runs):
            found.append(f"{claim}: {', '.join(sorted(set(runs)))}")
    return found


def main(argv: list[str]) -> int:
    document, *reports = (Path(arg) for arg in argv)
    claims = claimed_tests(document.read_text())
    if not claims:
        print(f"{document}: names no tests", file=sys.stderr)
        return 1
    found = problems(claims, outcomes(reports))
    for line in found:
        print(f"{document}: {line}", file=sys.stderr)
    print(f"{document}: {len(claims) - len(found)} of {len(claims)} named tests passed in this run")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
