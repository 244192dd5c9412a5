"""Shared projects: every member's changes feed converges to exactly what the matrix lets them
see, under concurrent task writers and membership churn, on PostgreSQL across both instances.

A round: USERS fresh accounts. User 0 owns two shared projects and user 1 a third; the other
users join each by invitation, as editor or viewer, or stay out (seeded). Each owner puts a few
tasks in its projects. Then, all at once:

- a writer per user sends its seeded list of task operations (create in a project, assigned
  or not; retitle; complete; uncomplete; trash; restore; erase; assign; move to another project
  or to the writer's own Inbox), in turn to instance 0, nginx and instance 1;
- an admin thread plays the seeded membership schedule: owners change roles, remove members
  and invite them back (who then accept), members leave, and a member tries what only the
  owner may do;
- a reader per user syncs GET /tasks/changes/ from scratch, then keeps polling it with page
  sizes of 1 to 7, alternately on instance 1 and instance 0, applying each page to its copy.

When all are done each user syncs once more to the end, and its copy must equal what
GET /tasks/ lists for it, field for field; that list must hold exactly the live tasks of the
projects the user is a member of by then (the membership schedule says which; each project's
owner lists them) and nothing else; every user's GET /projects/ must show those projects with
the roles the schedule gave; and every task's assignee must be a member of the task's project.

Every status must be one the matrix allows. The admin's statuses are exact (it is the only one
changing membership). A writer's status must fit the roles the writer may have held while its
request ran (each membership change took effect between its request and its answer), in any
project the task may have been in by then: a success needs editor or owner, a 403 needs
viewer, a 400 on project_id (a create or a move into the project) needs non-member, a 400 on
assignee_id an assignee who may have been out. A 404 is always possible (another writer may
have trashed or moved the task), a 412 only with If-Match. Anything else, a 500 above all,
fails the round.

That is the feed's claim under sharing (docs/sharing.md, "The changes feed: a record per
reader"): each reader's records are numbered under that reader's counter lock in commit order,
joins and departures record under the project's lock, and a page only shows what the reader
may see now.

SHARING_ROUNDS rounds (3 by default, for `make test`; `make sharing-soak` runs 1000), each with
a fresh random seed. A failure names the seed; SHARING_SEED=<seed> replays that round's
schedule (its operations, not their timing: a race it lost may need several replays).
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests

from tests.stack.conftest import Account, create_account, record_figure
from tests.support.sync_mirror import Mirror, divergence

REPLAY_SEED = os.environ.get("SHARING_SEED")
ROUNDS = 1 if REPLAY_SEED else int(os.environ.get("SHARING_ROUNDS", "3"))
USERS = 4
OWNERS = (0, 0, 1)  # the owner of each shared project (by user index)
SEED_TASKS = 3  # per shared project, made by its owner before the round
MEMBER_CHANCE = 0.7  # that a non-owner starts the round as a member of a project
OPERATIONS_PER_WRITER = 10
ADMIN_ACTIONS = 10
ADMIN_PAUSE = 0.02  # seconds, at most, between two membership actions
READER_PAGE_SIZES = (1, 7)
INBOX = -1  # a schedule's project: the writer's own Inbox (otherwise a shared project's index)
WRITE_ROLES = frozenset({"owner", "editor"})

# kind: weight in a writer's schedule
KINDS: dict[str, int] = {
    "create": 3,
    "retitle": 3,
    "complete": 2,
    "uncomplete": 1,
    "assign": 2,
    "trash": 2,
    "restore": 2,
    "erase": 1,
    "move": 3,
}
GUARDED = {"retitle", "complete", "uncomplete", "assign", "trash", "restore", "move"}


@dataclass(frozen=True)
class Operation:
    kind: str
    target: str  # a task's label: "p1.2" (made before the round in project 1) or "w3.0"
    if_match: bool  # with the ETag this writer last saw of the target, when it saw one
    project: int | None = None  # create, move: a shared project's index, or INBOX
    assignee: int | None = None  # create, assign: a user's index (None: nobody)

    def __str__(self) -> str:
        text = f"{self.kind} {self.target}"
        if self.project is not None:
            text += " to inbox" if self.project == INBOX else f" in P{self.project}"
        if self.kind in ("create", "assign"):
            text += f" assignee={'none' if self.assignee is None else f'u{self.assignee}'}"
        return text + (" if-match" if self.if_match else "")


@dataclass(frozen=True)
class AdminAction:
    """One membership change, or one refused attempt at it. `user` is the member it is about;
    a refusal is `user` (no owner) trying to change the owner's role."""

    kind: str  # "role", "remove", "leave", "join", "refused"
    user: int
    project: int
    role: str | None  # the user's role after it (None: not a member)
    expected: tuple[str, ...]  # the statuses of its requests, in order

    def __str__(self) -> str:
        about = f"u{self.user} P{self.project}"
        match self.kind:
            case "role":
                return f"owner makes {about} {self.role}"
            case "remove":
                return f"owner removes {about}"
            case "leave":
                return f"{about} leaves"
            case "join":
                return f"owner invites {about} as {self.role}, who accepts"
        return f"{about} tries to change the owner's role"


@dataclass
class Schedule:
    members: dict[tuple[int, int], str | None]  # (user, project) -> role before the round
    writers: list[list[Operation]]
    admin: list[AdminAction]


def schedule_for(seed: int) -> Schedule:
    """The round's starting membership, each writer's operations and the admin's actions.

    A writer picks among the tasks made before the round and the ones it created itself, so
    the schedule alone says which task each operation is about; it restores and erases only
    once it has trashed something, and mostly what it trashed itself (another writer may have
    been first). The admin's actions follow a
    model of who is a member, so each one's statuses are known in advance.
    """
    rng = random.Random(seed)
    members: dict[tuple[int, int], str | None] = {}
    for project, owner in enumerate(OWNERS):
        for user in range(USERS):
            if user == owner:
                members[user, project] = "owner"
            elif rng.random() < MEMBER_CHANCE:
                members[user, project] = rng.choice(["editor", "viewer"])
            else:
                members[user, project] = None

    kinds = list(KINDS)
    weights = list(KINDS.values())
    writers = []
    for writer in range(USERS):
        known = [f"p{p}.{n}" for p in range(len(OWNERS)) for n in range(SEED_TASKS)]
        trashed: list[str] = []
        operations: list[Operation] = []
        for _ in range(OPERATIONS_PER_WRITER):
            kind = rng.choices(kinds, weights)[0]
            while kind in ("restore", "erase") and not trashed:
                kind = rng.choices(kinds, weights)[0]
            project = assignee = None
            if kind == "create":
                target = f"w{writer}.{sum(op.kind == 'create' for op in operations)}"
                known.append(target)
                project = rng.randrange(len(OWNERS))
                assignee = rng.randrange(USERS) if rng.random() < 0.4 else None
            elif kind in ("restore", "erase") and rng.random() < 0.8:
                target = rng.choice(trashed)
            else:
                target = rng.choice(known)
            if kind == "trash":
                trashed.append(target)
            if kind == "assign":
                assignee = rng.randrange(USERS) if rng.random() < 0.8 else None
            if kind == "move":
                project = INBOX if rng.random() < 0.2 else rng.randrange(len(OWNERS))
            guarded = kind in GUARDED and rng.random() < 0.3
            operations.append(Operation(kind, target, guarded, project, assignee))
        writers.append(operations)

    state = dict(members)
    admin = []
    for _ in range(ADMIN_ACTIONS):
        project = rng.randrange(len(OWNERS))
        user = rng.choice([u for u in range(USERS) if u != OWNERS[project]])
        role = state[user, project]
        if rng.random() < 0.1:
            expected = "403" if role is not None else "404"
            admin.append(AdminAction("refused", user, project, role, (expected,)))
            continue
        if role is None:
            role = rng.choice(["editor", "viewer"])
            admin.append(AdminAction("join", user, project, role, ("201", "200")))
        else:
            kind = rng.choices(["role", "remove", "leave"], [4, 3, 3])[0]
            if kind == "role":
                role = "viewer" if role == "editor" else "editor"
                admin.append(AdminAction("role", user, project, role, ("200",)))
            else:
                role = None
                admin.append(AdminAction(kind, user, project, None, ("204",)))
        state[user, project] = role
    return Schedule(members, writers, admin)


def status_of(response: requests.Response) -> str:
    """The status, and for a 400 the fields its errors name ("400 project_id")."""
    if response.status_code != 400:
        return str(response.status_code)
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return "400 (not json)"
    return "400 " + ",".join(sorted({str(error.get("field")) for error in errors}))


@dataclass
class Outcome:
    operation: Operation
    via: str
    task_id: int | None
    status: str  # status_of(), "skipped" (its task was never made), or the exception raised
    started: float
    ended: float
    if_match: bool = False  # sent with If-Match (the writer had seen an ETag of the task)


@dataclass
class AdminOutcome:
    action: AdminAction
    via: str
    statuses: list[str]
    started: float  # of the request that changes the role (the accept of a join)
    ended: float


@dataclass
class User:
    account: Account
    id: int
    inbox: int  # its Inbox's project id


@dataclass
class Round:
    seed: int
    schedule: Schedule
    users: list[User] = field(default_factory=list)
    projects: list[int] = field(default_factory=list)  # shared project ids, by index
    ids: dict[str, int] = field(default_factory=dict)  # task label -> id
    homes: dict[str, int] = field(default_factory=dict)  # task label -> project id it was made in
    moves: list[tuple[str, int, float]] = field(default_factory=list)  # label, project, sent at
    outcomes: list[list[Outcome]] = field(default_factory=list)
    admin: list[AdminOutcome] = field(default_factory=list)
    started: float = 0.0
    reader_errors: dict[int, str] = field(default_factory=dict)
    pages: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # set-up, concurrent, check
    diverged: bool = False
    failure: str | None = None

    # --- who may have been what, when -------------------------------------------------------
    def project_id(self, writer: int, project: int) -> int:
        return self.users[writer].inbox if project == INBOX else self.projects[project]

    def roles(self, user: int, project_id: int, since: float, until: float) -> set[str | None]:
        """The roles `user` may have held in the project at some moment in [since, until]: the
        admin's requests are the only membership changes, and each took effect between its
        request's start and its answer."""
        if project_id not in self.projects:  # an Inbox: its owner's, nobody else's
            return {"owner"} if self.users[user].inbox == project_id else {None}
        project = self.projects.index(project_id)
        states = [self.schedule.members[user, project]]
        changes = []
        for done in self.admin:
            action = done.action
            if action.kind != "refused" and (action.user, action.project) == (user, project):
                changes.append(done)
                states.append(action.role)
        first = last = 0
        for n, change in enumerate(changes, start=1):
            if change.ended < since:
                first = n  # certainly in effect when the request started
            if change.started < until:
                last = n  # may have been in effect before it ended
        return set(states[first : last + 1])

    def homes_of(self, label: str, until: float) -> set[int]:
        """The projects the task may have been in before `until`: where it was made, and every
        project a move of it was sent to by then."""
        return {self.homes[label]} | {p for lab, p, at in self.moves if lab == label and at < until}

    def allowed(self, writer: int, outcome: Outcome) -> set[str]:
        """The statuses the matrix allows for this request (the module's docstring)."""
        op, since, until = outcome.operation, outcome.started, outcome.ended
        if op.kind == "create":
            project_id = self.project_id(writer, op.project)  # type: ignore[arg-type]
            roles = self.roles(writer, project_id, since, until)
            allowed = set()
            if roles & WRITE_ROLES:
                allowed.add("201")
                if op.assignee is not None and None in self.roles(
                    op.assignee, project_id, since, until
                ):
                    allowed.add("400 assignee_id")
            if "viewer" in roles:
                allowed.add("403")
            if None in roles:
                allowed.add("400 project_id")
            return allowed
        homes = self.homes_of(op.target, until)
        roles = set().union(*(self.roles(writer, p, since, until) for p in homes))
        may_write, may_view = bool(roles & WRITE_ROLES), "viewer" in roles
        allowed = {"404"}  # trashed, erased or moved out of sight by another writer
        if outcome.if_match:
            allowed.add("412")
        if may_view:
            allowed.add("403")
        success = {"trash": "204", "erase": "204"}.get(op.kind, "200")
        if op.kind in ("retitle", "complete", "uncomplete", "assign", "restore", "move"):
            allowed.add("409")  # lost the race for the row MAX_WRITE_ATTEMPTS times, or moved
        if op.kind == "move":
            project_id = self.project_id(writer, op.project)  # type: ignore[arg-type]
            target = self.roles(writer, project_id, since, until)
            if may_write:
                if target & WRITE_ROLES:
                    allowed.add(success)
                if "viewer" in target:
                    allowed.add("403")
                if None in target:
                    allowed.add("400 project_id")
            return allowed
        if may_write:
            allowed.add(success)
            assignee = op.assignee if op.kind == "assign" else None
            if assignee is not None and any(
                None in self.roles(assignee, p, since, until) for p in homes
            ):
                allowed.add("400 assignee_id")
        return allowed

    def final_role(self, user: int, project: int) -> str | None:
        role = self.schedule.members[user, project]
        for done in self.admin:
            action = done.action
            if action.kind != "refused" and (action.user, action.project) == (user, project):
                role = action.role
        return role

    # --- the report --------------------------------------------------------------------------
    def problems(self) -> list[str]:
        found = []
        for writer, outcomes in enumerate(self.outcomes):
            for o in outcomes:
                if o.status == "skipped":
                    continue
                allowed = self.allowed(writer, o)
                if o.status not in allowed:
                    found.append(
                        f"writer u{writer} {o.operation} (#{o.task_id}) via {o.via} at "
                        f"{self.at(o.started)}-{self.at(o.ended)} -> {o.status}; the matrix "
                        f"allows {sorted(allowed)} for u{writer}'s roles then"
                    )
        for done in self.admin:
            if done.statuses != list(done.action.expected):
                found.append(
                    f"admin {done.action} via {done.via} -> {done.statuses}, expected "
                    f"{list(done.action.expected)}"
                )
        for user, error in sorted(self.reader_errors.items()):
            found.append(f"reader of u{user}: {error}")
        return found

    def at(self, moment: float) -> str:
        return f"{(moment - self.started) * 1000:.0f}ms"

    def report(self, headline: str) -> str:
        ids = ", ".join(f"{label}=#{task_id}" for label, task_id in self.ids.items())
        users = ", ".join(f"u{n}=user {u.id} (inbox #{u.inbox})" for n, u in enumerate(self.users))
        projects = ", ".join(
            f"P{n}=#{pid} (owner u{OWNERS[n]})" for n, pid in enumerate(self.projects)
        )
        lines = [
            headline,
            f"round seed {self.seed}; replay it with SHARING_SEED={self.seed} "
            f".venv/bin/pytest {__name__.replace('.', '/')}.py -p no:cacheprovider",
            f"users: {users}",
            f"projects: {projects}",
            "members before the round: "
            + ", ".join(
                f"u{u} P{p} {role}"
                for (u, p), role in sorted(self.schedule.members.items())
                if role is not None
            ),
            f"tasks: {ids}",
            f"readers: {self.pages} pages",
            "admin (in order, with what it got; times from the round's start):",
        ]
        for n, action in enumerate(self.schedule.admin):
            if n < len(self.admin):
                done = self.admin[n]
                lines.append(
                    f"  {n:2} {action} via {done.via} {self.at(done.started)}-"
                    f"{self.at(done.ended)} -> {done.statuses}"
                )
            else:
                lines.append(f"  {n:2} {action} (not run)")
        lines.append("writers (each one's operations in order, with what it got):")
        for writer, operations in enumerate(self.schedule.writers):
            done_ops = self.outcomes[writer] if writer < len(self.outcomes) else []
            lines.append(f"  writer u{writer}:")
            for n, operation in enumerate(operations):
                if n < len(done_ops):
                    o = done_ops[n]
                    lines.append(
                        f"    {n:2} {operation} (#{o.task_id}) via {o.via} "
                        f"{self.at(o.started)}-{self.at(o.ended)} -> {o.status}"
                    )
                else:
                    lines.append(f"    {n:2} {operation} (not run)")
        return "\n".join(lines)


# --- the round's actors ---------------------------------------------------------------------
def targets(stack) -> list[tuple[str, requests.Session]]:  # type: ignore[no-untyped-def]
    """Fresh sessions (one thread each): instance 0, nginx, instance 1."""
    return [
        ("instance 0", stack.apps[0].http),
        ("nginx", stack.http),
        ("instance 1", stack.apps[1].http),
    ]


class Writer:
    """One user's task writes, its sessions and the ETags it saw."""

    def __init__(self, index: int, stack, run: Round) -> None:  # type: ignore[no-untyped-def]
        self.index = index
        self.auth = run.users[index].account.auth
        self.run = run
        self.targets = targets(stack)
        self.etags: dict[str, str] = {}

    def perform(self, barrier: threading.Barrier) -> list[Outcome]:
        barrier.wait()
        outcomes = []
        for n, operation in enumerate(self.run.schedule.writers[self.index]):
            via, http = self.targets[(self.index + n) % len(self.targets)]
            task_id = self.run.ids.get(operation.target)
            started = time.monotonic()
            if operation.kind != "create" and task_id is None:
                outcomes.append(Outcome(operation, via, None, "skipped", started, started))
                continue  # its create was refused
            if operation.kind == "move":
                target = self.run.project_id(self.index, operation.project)  # type: ignore[arg-type]
                self.run.moves.append((operation.target, target, started))  # before it is sent
            if_match = operation.if_match and operation.target in self.etags
            try:
                response = self._send(http, operation, task_id, n)
                status = status_of(response)
            except requests.RequestException as error:
                response, status = None, f"{type(error).__name__}: {error}"
            ended = time.monotonic()
            if operation.kind == "create" and status == "201" and response is not None:
                task_id = response.json()["id"]
                # Only this writer writes these labels, and only it reads them.
                self.run.homes[operation.target] = response.json()["project_id"]
                self.run.ids[operation.target] = task_id
            if response is not None and "ETag" in response.headers:
                self.etags[operation.target] = response.headers["ETag"]
            outcomes.append(Outcome(operation, via, task_id, status, started, ended, if_match))
            if response is None or response.status_code >= 500:
                break  # the round has failed; the report shows where
        return outcomes

    def _send(
        self, http: requests.Session, operation: Operation, task_id: int | None, n: int
    ) -> requests.Response:
        headers = dict(self.auth)
        etag = self.etags.get(operation.target)
        if operation.if_match and etag is not None:
            headers["If-Match"] = etag
        title = f"{operation.target}, u{self.index} op {n} ({self.run.seed})"
        assignee = None if operation.assignee is None else self.run.users[operation.assignee].id
        match operation.kind:
            case "create":
                body = {
                    "title": title,
                    "completed": n % 2 == 1,
                    "project_id": self.run.project_id(self.index, operation.project),  # type: ignore[arg-type]
                    "assignee_id": assignee,
                }
                return http.post("/tasks/", json=body, headers=headers)
            case "retitle":
                return http.patch(f"/tasks/{task_id}/", json={"title": title}, headers=headers)
            case "complete" | "uncomplete":
                body = {"completed": operation.kind == "complete"}
                return http.patch(f"/tasks/{task_id}/", json=body, headers=headers)
            case "assign":
                body = {"assignee_id": assignee}
                return http.patch(f"/tasks/{task_id}/", json=body, headers=headers)
            case "trash":
                return http.delete(f"/tasks/{task_id}/", headers=headers)
            case "restore":
                return http.post(f"/tasks/{task_id}/restore/", headers=headers)
            case "erase":
                return http.delete(f"/tasks/trash/{task_id}/", headers=headers)
            case "move":
                body = {"project_id": self.run.project_id(self.index, operation.project)}  # type: ignore[arg-type]
                return http.post(f"/tasks/{task_id}/move/", json=body, headers=headers)
        raise AssertionError(operation.kind)


class Admin:
    """Plays the membership schedule, one request at a time, as the owner or the member."""

    def __init__(self, stack, run: Round) -> None:  # type: ignore[no-untyped-def]
        self.run = run
        self.targets = targets(stack)
        self.rng = random.Random(run.seed ^ 0xAD)

    def perform(self, barrier: threading.Barrier) -> None:
        barrier.wait()
        for n, action in enumerate(self.run.schedule.admin):
            time.sleep(self.rng.uniform(0, ADMIN_PAUSE))
            via, http = self.targets[n % len(self.targets)]
            done = self._play(http, via, action)
            self.run.admin.append(done)
            if done.statuses != list(action.expected):
                break  # the model no longer says who is a member: the round has failed

    def _play(self, http: requests.Session, via: str, action: AdminAction) -> AdminOutcome:
        run = self.run
        project_id = run.projects[action.project]
        owner = run.users[OWNERS[action.project]]
        member = run.users[action.user]
        members = f"/projects/{project_id}/members/"
        statuses: list[str] = []

        def send(auth: Account, method: str, path: str, **kwargs) -> requests.Response | None:  # type: ignore[no-untyped-def]
            try:
                response = http.request(method, path, headers=auth.auth, **kwargs)
            except requests.RequestException as error:
                statuses.append(f"{type(error).__name__}: {error}")
                return None
            statuses.append(status_of(response))
            return response

        started = time.monotonic()
        match action.kind:
            case "role":
                send(owner.account, "PATCH", f"{members}{member.id}/", json={"role": action.role})
            case "remove":
                send(owner.account, "DELETE", f"{members}{member.id}/")
            case "leave":
                send(member.account, "POST", f"/projects/{project_id}/leave/")
            case "refused":
                send(member.account, "PATCH", f"{members}{owner.id}/", json={"role": "viewer"})
            case "join":
                invited = send(
                    owner.account,
                    "POST",
                    f"/projects/{project_id}/invitations/",
                    json={"email": member.account.email, "role": action.role},
                )
                if invited is not None and invited.status_code == 201:
                    started = time.monotonic()  # the role changes with the accept
                    send(member.account, "POST", f"/invitations/{invited.json()['id']}/accept/")
        return AdminOutcome(action, via, statuses, started, time.monotonic())


def read_while(
    stop: threading.Event,
    mirror: Mirror,
    readers: list[requests.Session],
    auth: dict[str, str],
    rng: random.Random,
) -> None:
    """Poll the feed until `stop`, with small random pages, alternating between sessions."""
    n = 0
    while not stop.is_set():
        http = readers[n % len(readers)]
        n += 1
        if not mirror.fetch(http, auth, page_size=rng.randint(*READER_PAGE_SIZES)):
            time.sleep(rng.uniform(0, 0.002))


# --- one round ------------------------------------------------------------------------------
def tasks_listed(
    http: requests.Session, auth: dict[str, str], project_id: int | None = None
) -> dict[int, dict]:
    """GET /tasks/ (of one project, or all the user's), every page, by id."""
    query = "" if project_id is None else f"&project_id={project_id}"
    listed: dict[int, dict] = {}
    url: str | None = f"/tasks/?page_size=100{query}"
    while url is not None:
        body = _ok(http.get(url, headers=auth), 200)
        listed.update((task["id"], task) for task in body["results"])
        url = body["next"]
    return listed


def _ok(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, f"{response.request.method} {response.url}: " + (
        f"{response.status_code} {response.text}"
    )
    return response.json() if response.content else {}


def set_up(stack, run: Round) -> None:  # type: ignore[no-untyped-def]
    """The round's users, projects, starting members and tasks, through nginx."""
    http = stack.http
    with ThreadPoolExecutor(USERS) as pool:  # registering hashes passwords: both cores
        accounts = list(pool.map(lambda _: create_account(stack.http), range(USERS)))
    for account in accounts:
        me = _ok(http.get("/auth/me/", headers=account.auth), 200)
        (inbox,) = [
            p["id"]
            for p in _ok(http.get("/projects/", headers=account.auth), 200)["results"]
            if p["inbox"]
        ]
        run.users.append(User(account, me["id"], inbox))
    for project, owner in enumerate(OWNERS):
        body = {"name": f"P{project} ({run.seed})"}
        made = _ok(http.post("/projects/", json=body, headers=run.users[owner].account.auth), 201)
        run.projects.append(made["id"])
        for user in range(USERS):
            role = run.schedule.members[user, project]
            if role is None or role == "owner":
                continue
            invitation = _ok(
                http.post(
                    f"/projects/{made['id']}/invitations/",
                    json={"email": run.users[user].account.email, "role": role},
                    headers=run.users[owner].account.auth,
                ),
                201,
            )
            accepted = http.post(
                f"/invitations/{invitation['id']}/accept/", headers=run.users[user].account.auth
            )
            assert _ok(accepted, 200)["role"] == role
        for n in range(SEED_TASKS):
            created = _ok(
                http.post(
                    "/tasks/",
                    json={"title": f"p{project}.{n} ({run.seed})", "project_id": made["id"]},
                    headers=run.users[owner].account.auth,
                ),
                201,
            )
            run.ids[f"p{project}.{n}"] = created["id"]
            run.homes[f"p{project}.{n}"] = made["id"]


def check_final(stack, run: Round, mirrors: list[Mirror]) -> list[str]:  # type: ignore[no-untyped-def]
    """Each user's synced copy against the server and the membership the schedule left."""
    http = stack.apps[0].http
    found = []
    # Each shared project's live tasks, as its owner lists them.
    by_project: dict[int, dict[int, dict]] = {}
    for project, owner in enumerate(OWNERS):
        project_id = run.projects[project]
        listed = tasks_listed(http, run.users[owner].account.auth, project_id)
        by_project[project_id] = listed
        members = {run.users[u].id for u in range(USERS) if run.final_role(u, project)}
        for task in listed.values():
            if task["project_id"] != project_id:
                found.append(
                    f"P{project}'s list holds #{task['id']} of project {task['project_id']}"
                )
            if task["assignee_id"] is not None and task["assignee_id"] not in members:
                found.append(
                    f"#{task['id']} in P{project} is assigned to user {task['assignee_id']}, "
                    f"who is not a member of P{project}"
                )
    for n, (user, mirror) in enumerate(zip(run.users, mirrors, strict=True)):
        auth = user.account.auth
        truth = tasks_listed(http, auth)
        diff = divergence(mirror.tasks, truth)
        if diff:
            run.diverged = True
            lines = diff.describe(lambda _id: "not in its GET /tasks/")
            found.append(f"u{n}'s synced copy differs from its GET /tasks/:\n{lines}")
        roles = {
            p["id"]: p["role"] for p in _ok(http.get("/projects/", headers=auth), 200)["results"]
        }
        expected_roles = {user.inbox: "owner"} | {
            run.projects[p]: run.final_role(n, p)
            for p in range(len(OWNERS))
            if run.final_role(n, p) is not None
        }
        if roles != expected_roles:
            found.append(f"u{n}'s GET /projects/ roles {roles}, the schedule left {expected_roles}")
        inbox = set(tasks_listed(http, auth, user.inbox))
        visible = inbox.union(
            *(by_project[pid] for pid, role in expected_roles.items() if pid != user.inbox)
        )
        for task_id in sorted(set(truth) - visible):
            found.append(
                f"u{n} lists #{task_id} (project {truth[task_id]['project_id']}), which is in "
                f"none of its projects' lists"
            )
        for task_id in sorted(visible - set(truth)):
            found.append(f"u{n} does not list #{task_id}, a live task of one of its projects")
        for task_id in sorted(set(mirror.tasks) - visible):
            found.append(
                f"u{n}'s synced copy holds #{task_id} (project "
                f"{mirror.tasks[task_id]['project_id']}), outside its projects"
            )
    return found


def play_round(stack, seed: int) -> Round:  # type: ignore[no-untyped-def]
    """Run one round; its `failure` says why, if a request failed or a copy diverged."""
    run = Round(seed=seed, schedule=schedule_for(seed))
    began = time.monotonic()
    set_up(stack, run)

    writers = [Writer(index, stack, run) for index in range(USERS)]
    admin = Admin(stack, run)
    mirrors = [Mirror() for _ in range(USERS)]
    stop = threading.Event()
    barrier = threading.Barrier(2 * USERS + 1)

    def reader(n: int) -> None:
        sessions = [stack.apps[1].http, stack.apps[0].http]
        rng = random.Random(seed ^ (0x5EED + n))
        barrier.wait()
        try:
            read_while(stop, mirrors[n], sessions, run.users[n].account.auth, rng)
        except Exception as error:  # reported with the round's schedule
            run.reader_errors[n] = f"{type(error).__name__}: {error}"

    run.started = time.monotonic()
    run.seconds["set-up"] = run.started - began
    with ThreadPoolExecutor(2 * USERS + 1) as pool:
        futures = [pool.submit(writer.perform, barrier) for writer in writers]
        administering = pool.submit(admin.perform, barrier)
        reading = [pool.submit(reader, n) for n in range(USERS)]
        run.outcomes = [future.result() for future in futures]
        administering.result()
        stop.set()
        for future in reading:
            future.result()

    finished = time.monotonic()
    run.seconds["concurrent"] = finished - run.started
    final = random.Random(seed ^ 0xF1A1)
    found = []
    try:
        for n, mirror in enumerate(mirrors):
            if n not in run.reader_errors:
                mirror.sync(
                    stack.http,
                    run.users[n].account.auth,
                    page_size=lambda: final.randint(*READER_PAGE_SIZES),
                )
        run.pages = sum(mirror.pages for mirror in mirrors)
        problems = run.problems()
        if problems:
            run.failure = run.report("A request of the round failed:\n  " + "\n  ".join(problems))
            return run
        found = check_final(stack, run, mirrors)
    except (AssertionError, requests.RequestException) as error:
        found = [f"the final sync or check failed: {type(error).__name__}: {error}"]
    run.seconds["final sync and check"] = time.monotonic() - finished
    if found:
        run.failure = run.report(
            "The users' copies or lists differ from what they may see:\n" + "\n".join(found)
        )
    return run


@pytest.mark.timeout(180 + 30 * ROUNDS)
def test_every_members_feed_converges_to_what_they_may_see_under_membership_churn(stack):
    seeds = (
        [int(REPLAY_SEED)]
        if REPLAY_SEED
        else [random.SystemRandom().randrange(2**32) for _ in range(ROUNDS)]
    )
    started = time.monotonic()
    statuses: Counter[str] = Counter()
    admin: Counter[str] = Counter()
    seconds: dict[str, float] = {}
    pages = divergences = operations = rounds = 0
    try:
        for seed in seeds:
            run = play_round(stack, seed)
            rounds += 1
            pages += run.pages
            divergences += run.diverged
            for outcomes in run.outcomes:
                operations += len(outcomes)
                statuses.update(o.status for o in outcomes)
            admin.update(done.action.kind for done in run.admin)
            for phase, spent in run.seconds.items():
                seconds[phase] = seconds.get(phase, 0.0) + spent
            if run.failure:
                pytest.fail(run.failure, pytrace=False)
            if rounds % 50 == 0:  # progress of a long soak, seen with -s
                print(
                    f"sharing convergence: {rounds} rounds, {divergences} divergences, "
                    f"{time.monotonic() - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        by_status = " ".join(f"{status}:{n}" for status, n in sorted(statuses.items()))
        by_kind = " ".join(f"{kind}:{n}" for kind, n in sorted(admin.items()))
        phases = ", ".join(f"{phase} {total:.1f} s" for phase, total in seconds.items())
        record_figure(
            f"sharing convergence: {rounds} rounds of {USERS} users in {len(OWNERS)} shared "
            f"projects, {operations} task operations ({by_status}), {sum(admin.values())} "
            f"membership actions ({by_kind}), {pages} feed pages read, {divergences} "
            f"divergences, {time.monotonic() - started:.1f} s ({phases})"
        )
