"""yamllint over the YAML we own (rules in .yamllint.yaml)."""

from tests.deploy.conftest import REPO, run, venv_tool


def test_yaml_passes_yamllint():
    result = run(
        venv_tool("yamllint"), "--strict", "--format", "parsable",
        ".github", "deploy/k8s", ".yamllint.yaml",
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert (REPO / ".yamllint.yaml").exists()
