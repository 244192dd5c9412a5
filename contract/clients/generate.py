"""Generate the Python and TypeScript clients of openapi.yaml; any generator warning fails.

    python -m contract.clients.generate [OUT_DIR]     # default build/clients (`make clients`)

- Python: openapi-python-client (pinned in constraints.txt) with python-config.yaml, into
  OUT_DIR/python. For what it cannot model it prints "Warning(s) encountered" and "... response
  will be omitted" and still exits 0, so every line besides its "Generating ..." banner fails.
- TypeScript: openapi-typescript (pinned in typescript/package-lock.json; `make clients` runs
  `npm ci` there) into OUT_DIR/typescript/api.ts, then `tsc --strict --noEmit` on it. It warns on
  stderr, so anything there fails. `--default-non-nullable false`: without it, an optional request
  field that has a `default` (TaskCreate.completed, .priority...) is typed as required.

contract/test_clients.py generates with the same functions before driving a real server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CONTRACT = REPO / "openapi.yaml"
PYTHON_CONFIG = HERE / "python-config.yaml"
PYTHON_PACKAGE = "cloud_task_api_client"
TYPESCRIPT = HERE / "typescript"
NODE_BIN = TYPESCRIPT / "node_modules" / ".bin"
VENV_BIN = Path(sys.executable).parent
NPM_INSTALL = "make clients   # runs: npm ci --prefix contract/clients/typescript"


class GenerationError(RuntimeError):
    """A generator failed, or printed a warning."""


def _run(command: list[str | Path], *, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, result.stdout, result.stderr


def generate_python_client(output: Path, *, contract: Path = CONTRACT) -> Path:
    """The client project (importable with `output` on sys.path), in `output`."""
    code, stdout, stderr = _run(
        [
            VENV_BIN / "openapi-python-client",
            "generate",
            "--path",
            contract,
            "--config",
            PYTHON_CONFIG,
            "--output-path",
            output,
            "--overwrite",
        ],
        # Its post-generation hooks run `ruff` from PATH: the venv's, not whatever else is there.
        env={"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    printed = stdout + stderr
    unexpected = [
        line for line in printed.splitlines() if line.strip() and not line.startswith("Generating ")
    ]
    if code != 0 or unexpected:
        raise GenerationError(f"openapi-python-client (exit {code}) did not run clean:\n{printed}")
    return output


def node_tool(name: str) -> Path:
    path = NODE_BIN / name
    if not path.exists():
        raise GenerationError(f"{name} is not in {NODE_BIN}. Install it with:\n  {NPM_INSTALL}")
    return path


def generate_typescript_types(output: Path, *, contract: Path = CONTRACT) -> Path:
    """openapi-typescript's `paths` and `components` types for openapi-fetch, in `output`."""
    code, stdout, stderr = _run(
        [
            node_tool("openapi-typescript"),
            contract,
            # Explicit, or it lints with whatever redocly.yaml is in the working directory.
            "--redocly",
            TYPESCRIPT / "redocly.yaml",
            "--default-non-nullable",
            "false",
            "--output",
            output,
        ],
        env={"NO_COLOR": "1"},
    )
    if code != 0 or stderr.strip() or "\u26a0" in stdout:
        raise GenerationError(
            f"openapi-typescript (exit {code}) did not run clean:\n{stdout}{stderr}"
        )
    return output


def typecheck_typescript(*files: Path) -> None:
    """`tsc --strict --noEmit` on standalone files (generated types import nothing).

    --skipLibCheck skips the installed packages' .d.ts files only (seconds); `files` are checked.
    """
    options = ["--strict", "--noEmit", "--skipLibCheck", "--target", "es2022", "--module", "esnext"]
    code, stdout, stderr = _run([node_tool("tsc"), *options, *files])
    if code != 0 or stdout.strip() or stderr.strip():
        raise GenerationError(f"tsc --strict (exit {code}) found problems:\n{stdout}{stderr}")


def main(argv: list[str]) -> int:
    output = Path(argv[1]).resolve() if len(argv) > 1 else REPO / "build" / "clients"
    try:
        python = generate_python_client(output / "python")
        types = generate_typescript_types(output / "typescript" / "api.ts")
        typecheck_typescript(types)
    except GenerationError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Python client (package {PYTHON_PACKAGE}): {python}")
    print(f"TypeScript types for openapi-fetch: {types}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
