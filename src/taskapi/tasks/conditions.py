"""Entity tags of tasks and the conditional headers that carry them (RFC 9110 §8.8.3, §13)."""

import re

from taskapi.tasks.models import Task

_ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')


def task_etag(task: Task) -> str:
    return version_etag(task.version)


def version_etag(version: int) -> str:
    return f'"{version}"'


def _entity_tags(header: str) -> list[tuple[bool, str]]:
    return [(bool(weak), opaque) for weak, opaque in _ENTITY_TAG.findall(header)]


def if_match_versions(header: str | None) -> frozenset[int] | None:
    """The versions an If-Match header accepts; None when any existing task will do.

    Strong comparison: a weak tag (W/"3") never matches, and neither does a tag that is not one
    of ours, so both leave the set empty and the write is refused.
    """
    if header is None or header.strip() == "*":
        return None
    return frozenset(
        int(opaque) for weak, opaque in _entity_tags(header) if not weak and opaque.isdigit()
    )


def if_none_match_matches(header: str | None, version: int) -> bool:
    """Weak comparison: W/"3" matches "3"."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    current = str(version)
    return any(opaque == current for _weak, opaque in _entity_tags(header))
