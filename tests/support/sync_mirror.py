"""A client's copy of its tasks kept by GET /tasks/changes/, and the server's truth to check it by.

The copy does exactly what openapi.yaml tells a sync client to do: apply a page (upsert every
task of `tasks` by id, drop every id of `deleted`), keep the page's `sync_token`, and call again
at once while `has_more`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

Task = dict[str, Any]


class FeedError(AssertionError):
    """The feed answered something a client cannot apply (a status, or a malformed page)."""


@dataclass
class Mirror:
    tasks: dict[int, Task] = field(default_factory=dict)
    token: str | None = None  # None: the next call is a full sync
    pages: int = 0

    def fetch(self, http: requests.Session, auth: dict[str, str], *, page_size: int) -> bool:
        """Read and apply one page; returns has_more."""
        params: dict[str, str | int] = {"page_size": page_size}
        if self.token is not None:
            params["sync_token"] = self.token
        response = http.get("/tasks/changes/", params=params, headers=auth)
        if response.status_code != 200:
            raise FeedError(f"GET /tasks/changes/ -> {response.status_code}: {response.text}")
        page = response.json()
        self.apply(page)
        return bool(page["has_more"])

    def apply(self, page: dict[str, Any]) -> None:
        changed = {task["id"] for task in page["tasks"]}
        if changed & set(page["deleted"]):
            raise FeedError(f"an id in both `tasks` and `deleted`: {json.dumps(page)}")
        if self.token is None:
            self.tasks = {}  # a full sync replaces the copy
        for task in page["tasks"]:
            self.tasks[task["id"]] = task
        for task_id in page["deleted"]:
            self.tasks.pop(task_id, None)
        self.token = page["sync_token"]
        self.pages += 1

    def sync(
        self,
        http: requests.Session,
        auth: dict[str, str],
        *,
        page_size: Callable[[], int] = lambda: 100,
    ) -> None:
        """Call until has_more is false."""
        while self.fetch(http, auth, page_size=page_size()):
            pass


def all_pages(http: requests.Session, path: str, auth: dict[str, str]) -> list[Task]:
    """Every item of a paginated list, following `next` links (100 a page)."""
    items: list[Task] = []
    url: str | None = f"{path}?page_size=100"
    while url is not None:
        response = http.get(url, headers=auth)
        if response.status_code != 200:
            raise FeedError(f"GET {url} -> {response.status_code}: {response.text}")
        body = response.json()
        items.extend(body["results"])
        url = body["next"]
    return items


@dataclass
class Divergence:
    missing: dict[int, Task]  # live on the server, absent from the mirror
    extra: dict[int, Task]  # in the mirror, not live on the server
    stale: dict[int, tuple[Task, Task]]  # (mirror, server) where they differ

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.stale)

    def describe(self, why_extra: Callable[[int], str] = lambda _id: "not live") -> str:
        lines = []
        for task_id, task in sorted(self.missing.items()):
            lines.append(f"  missing #{task_id}: server has {json.dumps(task, sort_keys=True)}")
        for task_id, task in sorted(self.extra.items()):
            lines.append(
                f"  extra   #{task_id} ({why_extra(task_id)}): mirror has "
                f"{json.dumps(task, sort_keys=True)}"
            )
        for task_id, (mine, theirs) in sorted(self.stale.items()):
            fields = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
            diffs = ", ".join(
                f"{k}: mirror={mine.get(k)!r} server={theirs.get(k)!r}" for k in fields
            )
            lines.append(f"  stale   #{task_id}: {diffs}")
        return "\n".join(lines)


def divergence(mirror: dict[int, Task], truth: dict[int, Task]) -> Divergence:
    return Divergence(
        missing={i: t for i, t in truth.items() if i not in mirror},
        extra={i: t for i, t in mirror.items() if i not in truth},
        stale={i: (t, truth[i]) for i, t in mirror.items() if i in truth and t != truth[i]},
    )
