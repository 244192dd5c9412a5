"""Static security analysis of the app's code, run with the rest of the suite."""

import subprocess
import sys
from pathlib import Path

from tests.support.servers import REPO

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_bandit_finds_nothing_above_low_severity_in_the_app():
    result = run(str(BIN / "bandit"), "-q", "-r", "src", "--severity-level", "medium")

    assert result.returncode == 0, result.stdout + result.stderr


def test_ruffs_security_rules_find_nothing_in_the_app():
    result = run(str(BIN / "ruff"), "check", "--select", "S", "--no-cache", "src")

    assert result.returncode == 0, result.stdout + result.stderr
