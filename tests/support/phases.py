"""How long each phase of `make test` took: one line per phase into build/phases.jsonl, a table at
the end (also when a phase failed: the table then shows where the run stopped).

    python3 tests/support/phases.py reset
    python3 tests/support/phases.py run NAME -- COMMAND [ARGS...]   # exits with COMMAND's status
    python3 tests/support/phases.py table

Standard library only: the first phase creates the virtualenv, so this runs on the system Python.
Wall-clock seconds (time.time), so phases run side by side show their overlap in the table.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

RECORD = Path(os.environ.get("PHASES_FILE", "build/phases.jsonl"))


def reset() -> int:
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text("")
    return 0


def run(name: str, command: list[str]) -> int:
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    # close_fds=False: a make below keeps the jobserver of the make above.
    process = subprocess.Popen(command, close_fds=False)
    # Ctrl-C reaches the whole foreground process group, the command included: wait for it to
    # finish its own cleanup. A SIGTERM sent to this process alone is passed on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: process.terminate())
    status = process.wait()
    finished = time.time()
    with RECORD.open("a") as handle:
        line = {"phase": name, "start": started, "end": finished, "status": status}
        handle.write(json.dumps(line) + "\n")
    return status if status >= 0 else 128 - status


def table() -> str:
    if not RECORD.exists():
        return "no phases recorded"
    phases = [json.loads(line) for line in RECORD.read_text().splitlines() if line.strip()]
    if not phases:
        return "no phases recorded"
    origin = min(phase["start"] for phase in phases)
    end = max(phase["end"] for phase in phases)
    width = max(len("phase"), *(len(phase["phase"]) for phase in phases))
    lines = [
        f"{'phase':<{width}}  {'start':>7}  {'seconds':>7}  result",
        f"{'-' * width}  {'-' * 7}  {'-' * 7}  ------",
    ]
    for phase in sorted(phases, key=lambda phase: phase["start"]):
        result = "ok" if phase["status"] == 0 else f"FAILED ({phase['status']})"
        lines.append(
            f"{phase['phase']:<{width}}  {phase['start'] - origin:>7.0f}  "
            f"{phase['end'] - phase['start']:>7.0f}  {result}"
        )
    lines.append(f"{'total (wall clock)':<{width}}  {0:>7.0f}  {end - origin:>7.0f}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["reset"]:
        return reset()
    if argv[:1] == ["table"]:
        print(table())
        return 0
    if len(argv) >= 4 and argv[0] == "run" and argv[2] == "--":
        return run(argv[1], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
