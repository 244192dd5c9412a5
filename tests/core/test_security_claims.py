"""The checker that binds SECURITY.md to passing tests must itself catch rot."""

from pathlib import Path

from tests.support.security_claims import main

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="tests.core.test_health" name="test_health_answers_ok_without_the_database"/>
  <testcase classname="tests.core.test_conventions"
            name="test_an_unsafe_request_id_is_replaced[a]"/>
  <testcase classname="tests.core.test_conventions" name="test_an_unsafe_request_id_is_replaced[b]">
    <failure message="boom"/>
  </testcase>
  <testcase classname="tests.core.test_conventions" name="test_health_is_exactly_status_ok">
    <skipped message="no server"/>
  </testcase>
</testsuite></testsuites>
"""


def write(tmp_path: Path, claims: list[str]) -> tuple[str, str]:
    document = tmp_path / "SECURITY.md"
    document.write_text("\n".join(f"- a guarantee: `{claim}`" for claim in claims))
    report = tmp_path / "junit.xml"
    report.write_text(JUNIT)
    return str(document), str(report)


def test_a_claim_bound_to_a_passing_test_holds(tmp_path):
    claim = "tests/core/test_health.py::test_health_answers_ok_without_the_database"

    assert main(list(write(tmp_path, [claim]))) == 0


def test_a_claim_naming_a_missing_test_fails(tmp_path):
    claim = "tests/core/test_health.py::test_that_does_not_exist"

    assert main(list(write(tmp_path, [claim]))) == 1


def test_a_claim_whose_test_failed_in_one_parameter_fails(tmp_path):
    claim = "tests/core/test_conventions.py::test_an_unsafe_request_id_is_replaced"

    assert main(list(write(tmp_path, [claim]))) == 1


def test_a_claim_whose_test_was_skipped_fails(tmp_path):
    claim = "tests/core/test_conventions.py::test_health_is_exactly_status_ok"

    assert main(list(write(tmp_path, [claim]))) == 1
