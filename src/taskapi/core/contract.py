"""openapi.yaml as the server reads it (deprecation headers, access-token scopes): parsed once
per process, and again only if the file changes. Readers must not change the document."""

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings


@lru_cache(maxsize=4)
def _parsed(path: Path, modified: float) -> dict[str, Any]:
    with path.open("rb") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


def contract_document(path: Path | None = None) -> dict[str, Any]:
    """The contract at `path` (default: settings.CONTRACT_PATH)."""
    path = Path(settings.CONTRACT_PATH) if path is None else path
    return _parsed(path, path.stat().st_mtime)
