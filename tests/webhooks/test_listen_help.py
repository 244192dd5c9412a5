"""The local receiver's --help, as a newcomer reads it before trying webhooks out."""

import subprocess

from tests.support.servers import BIN, REPO


def test_help_names_the_command_and_describes_the_receiver_in_whole_sentences():
    result = subprocess.run(
        [str(BIN / "python"), "-m", "taskapi.webhooks.listen", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    usage, description = result.stdout.split("\n\n")[:2]
    assert usage.startswith("usage: python -m taskapi.webhooks.listen ")
    described = " ".join(description.split())
    assert described.endswith("(400 when the signature does not verify).")
    assert "default: 9000" in result.stdout
