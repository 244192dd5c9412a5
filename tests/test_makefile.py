"""The Makefile as a newcomer meets it: `make help` names every target the README tells them to
run."""

import re
import subprocess

from tests.support.servers import REPO

CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)


def readme_targets() -> set[str]:
    """Every `make <target>` the README shows in code (inline or in a block)."""
    readme = (REPO / "README.md").read_text()
    code = " ".join(CODE.findall(readme))
    return set(re.findall(r"(?<![\w-])make ([a-z][a-z0-9-]*)", code))


def test_make_help_lists_every_target_the_readme_names():
    listed = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    named = readme_targets()

    assert {"run", "test"} <= named  # the README's two commands, so the parsing found them
    missing = sorted(t for t in named if not re.search(rf"^\s*make {re.escape(t)}\b", listed, re.M))
    assert not missing, f"the README names targets `make help` does not list: {missing}"
