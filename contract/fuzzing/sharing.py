"""The projects user A shares, and who is in them: the subjects the authorization matrix names.

Each shared project is made over HTTP as people make one: A creates it and invites, by email,
E as an editor, V as a viewer, R as an editor and I as a viewer; E, V and R find the invitation
in their own GET /invitations/ and accept it; then A removes R. I never answers. B is never
invited. So in every shared project A is the owner, E an editor, V a viewer, and B, R and I are
the three kinds of non-member (never invited, removed, invited but not accepted). R is removed
before the project holds any task, and nobody but A ever creates a project, so neither R nor B nor
I may ever see a task.

`shared_project` is the run's one long-lived project: the fixtures of task operations live there.
Operations that change a project or its members act on `clones`, shared the same way: a clone
that a request left as it was made, or that can be put back so (`repair`), goes back to the
pool; any other is deleted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import schemathesis

from contract.fuzzing import ledger
from contract.fuzzing.auth import Account, account
from contract.fuzzing.fixtures import Snapshot, create
from contract.fuzzing.run import lock, record

OWNER = "A"
# Who joins (and with what role) and who is only invited; R is removed after joining.
JOINING = {"E": "editor", "V": "viewer", "R": "editor"}
INVITED_ONLY = {"I": "viewer"}
REMOVED = "R"
ROLES = {OWNER: "owner", "E": "editor", "V": "viewer"}
# The run's users other than A that the matrix names (B, R and I: non-members).
OTHERS = ("E", "V", "B", "R", "I")
# Clones handed to A's generated requests and not yet given back, at most: each is a membership
# of E's and V's, who may be in at most 100 projects.
MAX_OUT = 10


@dataclass
class Shared:
    """A project A shares: its members' user ids and the invitation I never answers."""

    id: int
    users: dict[str, int]  # label -> user id, for A, E, V, R (removed) and I (invited)
    invitation: int  # I's pending invitation
    pristine: Snapshot = field(repr=False)
    members: bytes = field(repr=False, default=b"")  # the owner's GET .../members/, as made

    def role(self, label: str | None) -> str | None:
        return ROLES.get(label or "")


def read_back_project(owner: Account, project_id: int) -> Snapshot:
    """The project, its members and its pending invitations, as the owner reads them."""
    parts = [
        owner.request("GET", f"/projects/{project_id}/"),
        owner.request("GET", f"/projects/{project_id}/members/"),
        owner.request("GET", f"/projects/{project_id}/invitations/"),
    ]
    return Snapshot(parts[0].status_code, b"\n".join(part.content for part in parts), None)


def _expect(response, status: int, what: str) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"setting up a shared project: {what} answered {response.status_code}, not "
            f"{status}: {response.text[:500]}"
        )


def share(base_url: str, purpose: str) -> Shared:
    owner = account(OWNER, base_url)
    name = f"{purpose} {uuid.uuid4().hex[:8]}"
    project_id = create(owner, "/projects/", {"name": name}, "project")
    ledger.shared_project_ids.add(project_id)
    invitations = {}
    for label, role in {**JOINING, **INVITED_ONLY}.items():
        body = {"email": account(label, base_url).email, "role": role}
        path = f"/projects/{project_id}/invitations/"
        invitations[label] = create(owner, path, body, "invitation")
    for label in JOINING:
        invitee = account(label, base_url)
        if purpose == "shared":
            # As a person finds it, once; the clones' invitees accept by the id at once.
            pending = invitee.request("GET", "/invitations/")
            _expect(pending, 200, f"{label}'s GET /invitations/")
            results = pending.json()["results"]
            found = [item["id"] for item in results if item["project_id"] == project_id]
            if found != [invitations[label]]:
                raise RuntimeError(f"{label}'s invitations to {project_id}: {found}")
        accepted = invitee.request("POST", f"/invitations/{invitations[label]}/accept/")
        _expect(accepted, 200, f"{label}'s accepting invitation {invitations[label]}")
    removed = account(REMOVED, base_url).user_id
    _expect(
        owner.request("DELETE", f"/projects/{project_id}/members/{removed}/"),
        204,
        f"removing {REMOVED} from project {project_id}",
    )
    users = {label: account(label, base_url).user_id for label in (OWNER, *JOINING, *INVITED_ONLY)}
    record(f"sharing.{purpose}")
    members = owner.request("GET", f"/projects/{project_id}/members/").content
    pristine = read_back_project(owner, project_id)
    return Shared(project_id, users, invitations["I"], pristine, members)


def _join(shared: Shared, label: str, role: str, base_url: str) -> bool:
    """`label` invited with `role` again, and accepting."""
    owner, invitee = account(OWNER, base_url), account(label, base_url)
    body = {"email": invitee.email, "role": role}
    invited = owner.request("POST", f"/projects/{shared.id}/invitations/", json=body)
    if invited.status_code != 201:
        return False
    accepted = invitee.request("POST", f"/invitations/{invited.json()['id']}/accept/")
    return accepted.status_code == 200


def repair(shared: Shared, base_url: str) -> bool:
    """Put a shared project back as it was made, after a request of A's own changed it (a hand-
    over, a role, a removal, an invitation revoked or added, a new name): True, with a new
    snapshot to compare with, if it still exists and A or its new owner can read it."""
    owner, path = account(OWNER, base_url), f"/projects/{shared.id}"
    members = owner.request("GET", f"{path}/members/")
    if members.status_code != 200:
        return False
    roles = {member["user_id"]: member["role"] for member in members.json()["results"]}
    label_of = {user_id: label for label, user_id in shared.users.items()}
    if roles.get(shared.users[OWNER]) != "owner":
        # Handed over: the new owner hands it back (and is an editor again).
        new_owner = [label_of.get(user_id) for user_id, role in roles.items() if role == "owner"]
        if new_owner[0] not in JOINING:
            return False
        body = {"user_id": shared.users[OWNER]}
        back = account(new_owner[0], base_url).request("POST", f"{path}/transfer/", json=body)
        if back.status_code != 200:
            return False
    for label, role in (("E", "editor"), ("V", "viewer")):
        user_id = shared.users[label]
        if user_id not in roles and not _join(shared, label, role, base_url):
            return False
        if roles.get(user_id, role) != role:
            owner.request("PATCH", f"{path}/members/{user_id}/", json={"role": role})
    for user_id in set(roles) - {shared.users[label] for label in (OWNER, "E", "V")}:
        owner.request("DELETE", f"{path}/members/{user_id}/")
    invited = account("I", base_url).email
    pending = owner.request("GET", f"{path}/invitations/").json()["results"]
    kept = [item["id"] for item in pending if item["email"] == invited][:1]
    for item in pending:
        if item["id"] not in kept:
            owner.request("DELETE", f"{path}/invitations/{item['id']}/")
    if not kept:
        body = {"email": invited, "role": INVITED_ONLY["I"]}
        kept = [create(owner, f"{path}/invitations/", body, "invitation")]
    shared.invitation = kept[0]
    shared.members = owner.request("GET", f"{path}/members/").content
    shared.pristine = read_back_project(owner, shared.id)
    record("sharing.repaired")
    return True


def discard(project_id: int, base_url: str) -> None:
    """Delete a shared project, by whoever owns it now (a hand-over may have moved it)."""
    for label in (OWNER, *JOINING):
        deleted = account(label, base_url).request("DELETE", f"/projects/{project_id}/")
        if deleted.status_code == 204:
            record("sharing.deleted")
            return


_shared: dict[str, Shared] = {}


def shared_project(base_url: str) -> Shared:
    """The run's long-lived shared project (made on first use)."""
    with lock:
        if base_url not in _shared:
            _shared[base_url] = share(base_url, "shared")
        return _shared[base_url]


class Clones:
    """Shared projects that a request may change: each is taken as made, and kept only while
    nothing changed it."""

    def __init__(self) -> None:
        self.pristine: list[Shared] = []
        self.out: dict[int, Shared] = {}

    def take(self, base_url: str) -> Shared:
        with lock:
            clone = self.pristine.pop() if self.pristine else share(base_url, "clone")
            self.out[clone.id] = clone
            return clone

    def can_lend(self) -> bool:
        return len(self.out) < MAX_OUT

    def alive(self) -> list[Shared]:
        return [*self.pristine, *self.out.values()]

    def give_back(self, clone_id: int, base_url: str, *, unchanged: bool = False) -> None:
        """Back to the pool if it reads back as made (or the caller just read it so) or can be
        put back so, else deleted (by whoever owns it now)."""
        with lock:
            clone = self.out.pop(clone_id, None)
            if clone is None:
                return
            if not unchanged:
                now = read_back_project(account(OWNER, base_url), clone.id)
                unchanged = now.same_as(clone.pristine)
            if unchanged or repair(clone, base_url):
                self.pristine.append(clone)
            else:
                discard(clone.id, base_url)

    def recheck(self, clone_id: int, base_url: str) -> None:
        """A clone in the pool that a request of A's own named: kept only if unchanged."""
        with lock:
            for clone in [clone for clone in self.pristine if clone.id == clone_id]:
                self.pristine.remove(clone)
                self.out[clone.id] = clone
                self.give_back(clone.id, base_url)


clones = Clones()


def notice(case: schemathesis.Case, base_url: str) -> None:
    """A's generated request may name a shared project itself (stateful links hand on the ids
    A's answers show): the long-lived one is put back as it was made (set up again if it is
    gone); a clone in the pool is checked like one given back."""
    path, method = case.operation.path, case.method.upper()
    if method in ("GET", "HEAD") or not path.startswith("/projects/{id}/"):
        return
    # The URL is what the server read: a negative case's "16" (a string where the contract
    # says integer) names project 16 all the same.
    raw = (case.path_parameters or {}).get("id")
    try:
        project_id = int(str(raw))
    except ValueError:
        return
    with lock:
        current = _shared.get(base_url)
        if current is None or project_id != current.id:
            clones.recheck(project_id, base_url)
        elif not repair(current, base_url):
            discard(current.id, base_url)
            _shared[base_url] = share(base_url, "shared")
            record("sharing.shared-again")


def inbox_of(who: Account) -> int:
    """The user's Inbox, the one project they have before anyone shares one with them."""
    with lock:
        if who.inbox is None:
            projects = who.request("GET", "/projects/").json()["results"]
            inboxes = [project["id"] for project in projects if project["inbox"]]
            if len(inboxes) != 1:
                raise RuntimeError(f"user {who.label} has the Inboxes {inboxes}: {projects}")
            who.inbox = inboxes[0]
        return who.inbox


class ProjectOfC:
    """A project of C's that A is invited to, joins and leaves: the real ids A's own accept,
    decline and leave need (A owns every other project it is in)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def _project(self, base_url: str) -> int:
        if base_url not in self.ids:
            body = {"name": f"C's {uuid.uuid4().hex[:8]}"}
            self.ids[base_url] = create(account("C", base_url), "/projects/", body, "project")
        return self.ids[base_url]

    def _invitation(self, base_url: str) -> int:
        """A's pending invitation to it: the one there is, or a new one."""
        third, project_id = account("C", base_url), self._project(base_url)
        pending = third.request("GET", f"/projects/{project_id}/invitations/").json()["results"]
        email = account(OWNER, base_url).email
        found = [invitation["id"] for invitation in pending if invitation["email"] == email]
        if found:
            return found[0]
        body = {"email": email, "role": "viewer"}
        return create(third, f"/projects/{project_id}/invitations/", body, "invitation")

    def invitation(self, base_url: str) -> int:
        """An invitation A may accept or decline (A leaves the project first)."""
        with lock:
            project_id = self._project(base_url)
            account(OWNER, base_url).request("POST", f"/projects/{project_id}/leave/")
            return self._invitation(base_url)

    def joined(self, base_url: str) -> int:
        """The project, with A a member of it (A accepts an invitation first)."""
        with lock:
            owner, project_id = account(OWNER, base_url), self._project(base_url)
            if owner.request("GET", f"/projects/{project_id}/").status_code != 200:
                invitation = self._invitation(base_url)
                owner.request("POST", f"/invitations/{invitation}/accept/")
            return project_id


project_of_c = ProjectOfC()
