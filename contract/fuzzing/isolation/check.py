"""The check Schemathesis runs on every response: `follows_the_matrix` (see the package's
docstring for what it asserts per subject)."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import schemathesis

from contract.fuzzing import generation, ledger, run, sharing
from contract.fuzzing.auth import Account, TokenHolder, account
from contract.fuzzing.fixtures import (
    Snapshot,
    new_invitation,
    new_label,
    new_webhook,
    read_back_invitation,
    read_back_label,
    read_back_webhook,
)
from contract.fuzzing.isolation import judge as rules
from contract.fuzzing.isolation import targets
from contract.fuzzing.isolation.matrix import (
    AUTHENTICATED,
    PUBLIC,
    SUBJECTS,
    Subject,
    holders_of,
    permission_of,
    scopes_of,
    token_alternatives,
)
from contract.fuzzing.isolation.replay import Answer, missing, replay_as
from contract.fuzzing.run import lock, record
from contract.fuzzing.sharing import OWNER, clones, inbox_of, shared_project

# `make test` replays each request as this many subjects, in turn per operation, so that every
# subject comes round many times on every operation; `make fuzz` (FUZZ_LONG=1) as all of them.
PER_REQUEST = int(os.environ.get("FUZZ_SUBJECTS_PER_REQUEST") or 2)
LONG = os.environ.get("FUZZ_LONG") == "1"
SAFE_METHODS = {"GET", "HEAD"}
# Lists of tasks: each row must come from a project where the subject holds the permission.
TASK_LISTS = {"GET /tasks/", "GET /tasks/trash/", "GET /tasks/changes/"}
# Lists of the caller's own things: each shows only what the run gave the subject.
OWN_LISTS = ("labels", "webhooks", "projects", "invitations")
_turns: Counter[str] = Counter()


def sample(label: str, subjects: tuple[Subject, ...] = SUBJECTS) -> list[Subject]:
    if LONG:
        return list(subjects)
    turn = _turns[label]
    _turns[label] += 1
    return [subjects[(turn * PER_REQUEST + i) % len(subjects)] for i in range(PER_REQUEST)]


def follows_the_matrix(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case
) -> None:
    """Every request A made, replayed as other subjects, gets what the contract's matrix says."""
    ledger.remember(response, case)
    base_url = run.base_url(case.operation)
    _note_moved_subtree(case, response, base_url)
    lent = generation.lent_clone(case)
    if lent is not None:
        clones.give_back(lent, base_url)
    sharing.notice(case, base_url)
    permission = permission_of(case.operation)
    # The coverage phase also sends each path the methods it does not serve (a 405 for all).
    if permission == PUBLIC or case.method.upper() != case.operation.method.upper():
        return
    label = case.operation.label
    failures = []
    with lock:
        record(f"matrix.{label}.checked")
        for subject in sample(label):
            record(f"matrix.{label}.{subject.name}")
            who = _credentials(subject, case.operation, base_url)
            scopes = scopes_of(subject, case.operation)
            if scopes is not None and not any(
                alternative <= scopes for alternative in token_alternatives(case.operation)
            ):
                failure = _scope_refused(case, subject, who, base_url)
            elif who is None:
                # Ids that name nothing, so the URL is one the API serves whatever was generated.
                names = targets.ID_PARAMETER.findall(case.operation.path)
                anywhere = {name: missing(0) for name in names}
                answer = replay_as(case, None, base_url, path_parameters=anywhere)
                failure = rules.judge(subject, permission, frozenset(), answer)
            elif permission == AUTHENTICATED:
                failure = _own_things(case, subject, who, base_url)
            else:
                failure = _in_a_project(case, subject, who, permission, base_url)
            if failure:
                failures.append(f"{label} replayed: {failure}")
    if failures:
        raise AssertionError("\n\n".join(failures))


def _credentials(subject: Subject, operation, base_url: str) -> Account | TokenHolder | None:
    """Who the subject is on the wire: their login, one of their tokens, or nobody."""
    if subject.label is None:
        return None
    user = account(subject.label, base_url)
    scopes = scopes_of(subject, operation)
    return user if scopes is None else TokenHolder(user, scopes)


def _scope_refused(case, subject: Subject, who, base_url: str) -> str | None:
    """A token without a scope the operation takes: the 403 of insufficient_scope naming the
    narrowest scope that would do (or `session` where no token may call it), before anything
    else about the request is looked at, so whatever ids it names (these name nothing)."""
    record("matrix.scope-refused", f"matrix.{case.operation.label}.scope-refused")
    names = targets.ID_PARAMETER.findall(case.operation.path)
    answer = replay_as(case, who, base_url, path_parameters={name: missing(0) for name in names})
    alternatives = token_alternatives(case.operation)
    needed = min(alternatives[0]) if alternatives else None
    problem = answer.problem()
    challenge = answer.headers.get("www-authenticate", "")
    if (
        answer.status == 403
        and 'error="insufficient_scope"' in challenge
        and problem.get("type") == "/problems/permission-denied"
        and problem.get("permission") == (needed or "session")
        and problem.get("scope") == needed
    ):
        return None
    return (
        f"The {subject.name} (scopes {sorted(who.scopes)}) got {answer.status}, not the 403 of "
        f"insufficient_scope naming {needed or 'session'}.\n  {answer.describe()}"
    )


def _note_moved_subtree(case, response: schemathesis.Response, base_url: str) -> None:
    """A task A moved into a shared project took its subtasks along, which the answer does not
    show: they too were in a shared project, and may be listed as deleted to its members."""
    body = ledger.note_tasks(response.content) if response.status_code == 200 else None
    if case.operation.label != "POST /tasks/{id}/move/" or not isinstance(body, dict):
        return
    project = body.get("project_id")
    if project not in ledger.shared_project_ids:
        return
    owner, parents = account(OWNER, base_url), [body.get("id")]
    with lock:
        while parents:
            query = {"project_id": project, "parent_id": parents.pop(), "page_size": 100}
            page = owner.request("GET", "/tasks/", params=query)
            children = [task["id"] for task in page.json().get("results", [])]
            ledger.in_shared_projects.update(children)
            parents += children


def _labels_leak(subject: Subject, answer: Answer) -> str | None:
    """Labels are personal and the subjects have none: a task they are shown carries none."""
    labelled = [
        (task.get("id"), task.get("labels"))
        for task in ledger.tasks_in(answer.json())
        if task.get("labels")
    ]
    if labelled:
        return (
            f"The {subject.name} subject is shown labels of others' on tasks (id, labels): "
            f"{labelled[:10]}\n  {answer.curl}"
        )
    return None


# --- operations on the caller's own things: labels, webhooks, invitations, the account ------------


@dataclass
class Victim:
    """Another user's label, webhook or invitation, and how its owner reads it and deletes it."""

    id: int
    read_back: Callable[[], Snapshot]
    delete: Callable[[], Any]


# Victims that replays left as they were, by kind: the next replay takes one (read again first:
# A's own requests may have changed it) rather than make one and delete it.
_spare_victims: dict[str, list[Victim]] = defaultdict(list)


def _victim(kind: str, base_url: str) -> tuple[Victim, Snapshot]:
    while _spare_victims[kind]:
        victim = _spare_victims[kind].pop()
        before = victim.read_back()
        if before.status == 200:
            return victim, before
    owner = account(OWNER, base_url)
    if kind == "labels":
        object_id, before = new_label(owner, "matrix victim")
        path = f"/labels/{object_id}/"
        victim = Victim(object_id, lambda: read_back_label(owner, object_id), lambda: None)
    elif kind == "webhooks":
        # C's: A's own generated requests may fill A's 10 webhooks.
        owner = account("C", base_url)
        object_id, before = new_webhook(owner)
        path = f"/webhooks/{object_id}/"
        victim = Victim(object_id, lambda: read_back_webhook(owner, object_id), lambda: None)
    else:
        project = shared_project(base_url).id
        object_id, before = new_invitation(owner, project)
        path = f"/projects/{project}/invitations/{object_id}/"
        victim = Victim(
            object_id, lambda: read_back_invitation(owner, project, object_id), lambda: None
        )
    victim.delete = lambda: owner.request("DELETE", path)
    return victim, before


def _allowed(subject: Subject, kind: str, who: Account, base_url: str) -> set[int]:
    """The ids of `kind` the run gave the subject: all their list may show (no invitations:
    those are told by the address)."""
    shared = [shared_project(base_url), *clones.alive()]
    if kind == "projects":
        return {inbox_of(who)} | {sh.id for sh in shared if sh.role(subject.label)}
    if kind == "webhooks":
        return ledger.webhooks_of.get(subject.label or "", set())
    return set()


def _own_things(case, subject: Subject, who: Account, base_url: str) -> str | None:
    """Another user's object id answers exactly like a missing one and stays as it was; lists
    show only the subject's own things."""
    path = case.operation.path
    kind = path.strip("/").split("/")[0]
    names = targets.ID_PARAMETER.findall(path)
    if names and kind in ("labels", "webhooks", "invitations"):
        # Another user's own thing: whoever the subject is in a project, they are not its owner.
        outsider = replace(subject, role=None)
        victim, before = _victim(kind, base_url)
        record(f"matrix.{case.operation.label}.victim")
        theirs = replay_as(case, who, base_url, path_parameters={names[0]: victim.id})
        nobodys = replay_as(case, who, base_url, path_parameters={names[0]: missing(victim.id)})
        failure = rules.judge(outsider, AUTHENTICATED, frozenset(), theirs, missing=nobodys)
        if failure is None and case.method.upper() not in SAFE_METHODS:
            failure = _unchanged(case, before, victim.read_back(), theirs)
        if failure is None:
            _spare_victims[kind].append(victim)
        else:
            victim.delete()
        return failure
    if names or case.method.upper() != "GET" or kind not in OWN_LISTS:
        return None
    answer = replay_as(case, who, base_url)
    record(f"matrix.{case.operation.label}.list")
    if answer.status != 200:
        return None
    if kind == "invitations":
        # A's generated requests may invite anyone whose email an answer showed them.
        results = answer.json().get("results", [])
        foreign = [item["id"] for item in results if item.get("email") != who.email]
    else:
        foreign = rules.strangers(answer.json(), _allowed(subject, kind, who, base_url))
    if foreign:
        return (
            f"The {subject.name}'s {case.operation.label} shows {kind} not theirs: {foreign}\n"
            f"  {answer.curl}"
        )
    return None


# --- operations in a project: the matrix ------------------------------------------------------


def _unchanged(case, before, after, answer: Answer) -> str | None:
    if case.method.upper() in SAFE_METHODS or before is None or before.same_as(after):
        return None
    return (
        f"The object changed after a refused {case.method}.\nBefore: {before.describe()}\n"
        f"After:  {after.describe()}\nThe request: {answer.curl}"
    )


class OwnersFeed:
    """A's changes feed, read from where the check last left it: after a refused write that
    names no single object (a create, a bulk write), it must hold nothing new."""

    def __init__(self) -> None:
        self.token: str | None = None

    def changed(self, owner: Account) -> list[Any]:
        """What changed in A's projects since the last call."""
        changed: list[Any] = []
        while True:
            query = {"page_size": 500, **({"sync_token": self.token} if self.token else {})}
            response = owner.request("GET", "/tasks/changes/", params=query)
            if response.status_code == 410:  # too old: start again
                self.token = None
                continue
            if response.status_code != 200:
                raise AssertionError(f"A's changes feed answered {response.status_code}")
            page = response.json()
            changed += [task["id"] for task in page["tasks"]] + page["deleted"]
            self.token = page["sync_token"]
            if not page["has_more"]:
                return changed


owners_feed = OwnersFeed()


def _sends_json(case) -> bool:
    """Whether the server reads the case's body: a JSON media type, as sent (a header the case
    carries wins over the media type it was generated for)."""
    headers = {name.lower(): value for name, value in (case.headers or {}).items()}
    sent = headers.get("content-type", case.media_type) or "application/json"
    media_type = str(sent).split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _in_a_project(
    case, subject: Subject, who: Account, permission: str, base_url: str
) -> str | None:
    holders = holders_of(case.operation, permission)
    stance = subject.stance(holders)
    record(f"matrix.{case.operation.label}.{stance}")
    label = case.operation.label
    if case.method.upper() == "GET" and label in TASK_LISTS:
        return _task_list(case, subject, who, permission, holders, base_url)
    owner = account(OWNER, base_url)
    unsafe = case.method.upper() not in SAFE_METHODS
    # A refused write that names no single object (a create, a bulk write) must leave every
    # project of A's as it was: A's changes feed, from just before it, stays empty.
    names_object = targets.ID_PARAMETER.search(case.operation.path)
    watch_feed = unsafe and stance != "holder" and not names_object
    target = targets.make(case, base_url)
    if watch_feed:
        owners_feed.changed(owner)
    judged = rules.judge_bulk if label == targets.BULK else rules.judge
    try:
        real = target.request(case, missing_ids=False, holder=stance == "holder")
        if not target.names_a_project(real, body_is_read=_sends_json(case)):
            # A create whose body is no object names no project (it is the caller's own
            # Inbox), nor does a batch the server cannot read (a 400 for everyone, the owner's
            # check `negative_data_rejection`), nor a body sent as another media type (a 415
            # for everyone: the server reads no project from it).
            record(f"matrix.{label}.names-no-project")
            return None
        answer = replay_as(case, who, base_url, **real)
        ledger.note_tasks(answer.body)
        if label == targets.BULK and rules.bulk_results(answer) is not None:
            record(f"matrix.{label}.results")
        if stance == "holder":
            reference = target if not unsafe else targets.make(case, base_url)
            try:
                mine = reference.request(case, missing_ids=False, holder=True)
                owners = replay_as(case, owner, base_url, **mine)
                ledger.note_tasks(owners.body)
            finally:
                if reference is not target:
                    reference.release()
            failure = judged(subject, permission, holders, answer, owner=owners)
            target.unchanged = not unsafe
            return failure or _labels_leak(subject, answer)
        nobodys = with_etag = None
        if stance == "outsider":
            nobodys = replay_as(
                case, who, base_url, **target.request(case, missing_ids=True, holder=False)
            )
            if target.etag and target.path:
                with_etag = _with_the_etag(case, who, target, base_url)
        # Read back now, before any request of the owner's: what the refused requests left.
        after = target.read_back() if target.read_back is not None else None
        changed = owners_feed.changed(owner) if watch_feed else []
        owners = None
        denied = rules.is_denial(answer.status, answer.problem(), permission)
        if label == targets.BULK and stance == "lacking" and not denied:
            # A batch nobody can read is everyone's 400: the owner's answer tells.
            owners = replay_as(case, owner, base_url, **real)
        failure = judged(subject, permission, holders, answer, owner=owners, missing=nobodys)
        if failure is None and with_etag is not None:
            failure = rules.judge(subject, permission, holders, with_etag[0], missing=with_etag[1])
        if failure is None and after is not None:
            failure = _unchanged(case, target.before, after, answer)
        target.unchanged = failure is None and (not unsafe or after is not None)
        if failure is None and changed:
            failure = f"A refused {case.method} changed tasks {changed}:\n  {answer.curl}"
        return failure
    finally:
        target.release()


def _with_the_etag(case, who: Account, target: targets.Target, base_url: str) -> list[Answer]:
    """The request with the conditional header a client would send had it seen the task, naming
    it and naming a missing id: a 304 or 412 for the task would confirm that it exists."""
    header = "If-None-Match" if case.method.upper() == "GET" else "If-Match"
    record(f"matrix.{case.operation.label}.etag")
    return [
        replay_as(
            case,
            who,
            base_url,
            extra_headers={header: target.etag},
            **target.request(case, missing_ids=missing_ids, holder=False),
        )
        for missing_ids in (False, True)
    ]


def _task_list(case, subject, who, permission, holders, base_url) -> str | None:
    """A list or the feed as another subject: when it names the shared project, the matrix's
    answer; whatever it names, only rows of projects where the subject holds the permission."""
    label = case.operation.label
    query = dict(case.query or {})
    token = query.get("sync_token")
    if isinstance(token, str) and token in ledger.known_tokens_of_a:
        return _token_of_a(case, subject, who, query, base_url)
    if label == "GET /tasks/changes/" and ledger.known_tokens_of_a:
        # The stateful phase links A's tokens into later feed requests only now and then; every
        # feed case also sends the newest of them alone (the case's own query may be one the
        # feed refuses for another reason), so each run proves the refusal.
        newest = {"sync_token": ledger.newest_token_of_a()}
        failure = _token_of_a(case, subject, who, newest, base_url)
        if failure:
            return failure
    shared = shared_project(base_url)
    target = targets.Target(shared)
    answer = replay_as(case, who, base_url, **target.request(case, missing_ids=False, holder=False))
    record(f"matrix.{label}.list")
    failure = None
    if "project_id" in query:
        stance = subject.stance(holders)
        owners = nobodys = None
        if stance == "holder":
            mine = target.request(case, missing_ids=False, holder=True)
            owners = replay_as(case, account(OWNER, base_url), base_url, **mine)
        if stance == "outsider":
            theirs = target.request(case, missing_ids=True, holder=False)
            nobodys = replay_as(case, who, base_url, **theirs)
        failure = rules.judge(subject, permission, holders, answer, owner=owners, missing=nobodys)
    if failure or answer.status != 200:
        return failure
    failure = _labels_leak(subject, answer)
    if failure:
        return failure
    body = answer.json()
    holds = subject.role in holders
    readable = {inbox_of(who)} | (ledger.shared_project_ids if holds else set())
    foreign = rules.unreadable_rows(body, readable)
    if foreign:
        return (
            f"The {subject.name}'s {label} shows tasks (id, project) of projects where they do "
            f"not hold {permission}: {foreign[:20]}\n  {answer.curl}"
        )
    seen = ledger.in_shared_projects if holds else set()
    deleted = rules.strangers(body, seen, key="deleted")
    if deleted:
        return (
            f"The {subject.name}'s {label} lists as deleted tasks they never could see: "
            f"{deleted[:20]}\n  {answer.curl}"
        )
    return None


def _token_of_a(case, subject, who, query, base_url) -> str | None:
    """A sync token issued to A, sent by another subject: the 400 on sync_token that a garbled
    token gets, so a token neither works for anyone else nor tells them anything."""
    record("matrix.token-of-a")
    answer = replay_as(case, who, base_url, query=query)
    fields = [error.get("field") for error in answer.problem().get("errors", [])]
    if answer.status != 400 or fields != ["sync_token"]:
        return (
            f"The {subject.name} replayed a sync token issued to user A and got "
            f"{answer.status}, not the 400 on sync_token a garbled token gets.\n"
            f"  {answer.describe()}"
        )
    return None
