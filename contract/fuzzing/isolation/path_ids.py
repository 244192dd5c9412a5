"""B's requests on ids in the path: a task, label or webhook of another user's answers exactly like
a missing id, and the object reads back unchanged."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import schemathesis

from contract.fuzzing import run
from contract.fuzzing.auth import Account, account
from contract.fuzzing.fixtures import (
    TRASH_PATHS,
    Snapshot,
    new_label,
    new_task,
    new_webhook,
    read_back_label,
    read_back_task,
    read_back_webhook,
)
from contract.fuzzing.isolation.replay import replay_as, require_unchanged, theirs_and_nobodys
from contract.fuzzing.ledger import known_ids_of_a
from contract.fuzzing.run import lock, record


def id_parameter(case: schemathesis.Case, prefix: str) -> str | None:
    """The path parameter naming the object, for operations under `prefix`{...}."""
    names = re.findall(r"\{([^}]+)\}", case.operation.path)
    if case.operation.path.startswith(prefix) and len(names) == 1:
        return names[0]
    return None


def _conditional_header(case: schemathesis.Case) -> str:
    return "If-None-Match" if case.method.upper() == "GET" else "If-Match"


@dataclass(frozen=True)
class Victim:
    """An object of another user's that B's request is tried on, and how its owner reads it."""

    noun: str
    owner: Account
    id: int
    before: Snapshot
    read_back: Callable[[], Snapshot]

    def describe(self) -> str:
        return f"{self.noun} {self.id} of user {self.owner.label}"


def check_one_id(
    case: schemathesis.Case,
    parameter: str,
    intruder: Account,
    base_url: str,
    victim: Victim,
    label: str,
) -> None:
    """B's request on the victim's id answers exactly like one on a missing id, and leaves the
    victim unchanged."""
    record(f"isolation.{case.operation.label}.{label}")
    before, whose = victim.before, victim.owner.label
    pairs = [("generated headers", {})]
    if before.etag:
        # The conditional headers a client would send if it had seen the task: a 304 or 412
        # instead of 404 would confirm that the id exists.
        pairs.append(("matching ETag", {_conditional_header(case): before.etag}))
    for variant, extra in pairs:
        theirs, nobodys = theirs_and_nobodys(
            victim.id,
            lambda id_, extra=extra: replay_as(
                case, intruder, base_url, path_parameters={parameter: id_}, extra_headers=extra
            ),
        )
        if not theirs.same_as(nobodys):
            raise AssertionError(
                f"User B can tell that {victim.describe()} exists ({variant}): {case.method} "
                f"on {whose}'s id and on a nonexistent id answer differently.\n"
                f"{whose}'s id:\n  {theirs.describe()}\nNonexistent id:\n  {nobodys.describe()}"
            )
        if theirs.status < 400:
            raise AssertionError(
                f"User B got {theirs.status} for {case.method} on {victim.describe()} "
                f"({variant}); expected the 404 a nonexistent id gets.\n  {theirs.describe()}"
            )
        require_unchanged(
            before,
            victim.read_back(),
            f"The {victim.describe()} changed after user B's {case.method} ({variant}).",
            theirs.curl,
        )


def _task(owner: Account, task_id: int, before: Snapshot, *, trashed: bool) -> Victim:
    def read_back() -> Snapshot:
        return read_back_task(owner, task_id, trashed=trashed, etag=before.etag)

    return Victim("task", owner, task_id, before, read_back)


def check_task(
    case: schemathesis.Case, parameter: str, owner: Account, intruder: Account, base_url: str
) -> None:
    # A task A owns right now (in A's trash for restore and erase), so every generated request
    # is tried against a task it could act on.
    trashed = case.operation.path in TRASH_PATHS
    task_id, before = new_task(owner, trashed=trashed)
    victim = _task(owner, task_id, before, trashed=trashed)
    check_one_id(case, parameter, intruder, base_url, victim, "victim")
    # The id the generated request itself used, when it names one of A's tasks (stateful links
    # from taskCreate): after A's own request it may be changed or gone.
    generated = case.path_parameters.get(parameter)
    if isinstance(generated, int) and generated in known_ids_of_a:
        current = read_back_task(owner, generated, trashed=trashed)
        if current.status == 200:
            victim = _task(owner, generated, current, trashed=trashed)
            check_one_id(case, parameter, intruder, base_url, victim, "generated-id")


@dataclass(frozen=True)
class Disposable:
    """A kind of object made for one probe and deleted after it: its owner keeps no more than the
    run needs (a user may have at most 500 labels and 10 webhooks)."""

    noun: str
    prefix: str
    owner: str
    create: Callable[[Account], tuple[int, Snapshot]]
    read_back: Callable[[Account, int], Snapshot]


LABELS = Disposable(
    "label", "/labels/", "A", lambda owner: new_label(owner, "isolation victim"), read_back_label
)
# The victims belong to a third user: A's own generated requests may fill A's 10 webhooks.
WEBHOOKS = Disposable("webhook", "/webhooks/", "C", new_webhook, read_back_webhook)
DISPOSABLES = (LABELS, WEBHOOKS)


def check_disposable(case: schemathesis.Case, parameter: str, kind: Disposable) -> None:
    """B's request on an object of another user's answers like one on a missing id and changes
    nothing: for a webhook, not its secret (a rotation changes `updated_at`), not its log."""
    base_url = run.base_url(case.operation)
    owner, intruder = account(kind.owner, base_url), account("B", base_url)
    with lock:
        object_id, before = kind.create(owner)
        victim = Victim(
            kind.noun, owner, object_id, before, lambda: kind.read_back(owner, object_id)
        )
        check_one_id(case, parameter, intruder, base_url, victim, "victim")
        owner.request("DELETE", f"{kind.prefix}{object_id}/")
