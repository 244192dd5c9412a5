"""Who may do what in a project: the one place the rules live.

The rule is a plain table, permission -> the roles that hold it, rather than a rules library
(django-rules and the like answer "may this user do this to this object" with Python predicates,
one object at a time). Here the same table must also be published by the contract (each
operation's `x-permission`, and the table in its description; tests/projects/test_contract_matrix.py
proves the two equal) and be applied in SQL to whole lists ("the tasks of every project where I
hold task:read"): data does both, predicates do neither.

Everything that decides access asks this module: `require` for one project (non-member: the
caller's 404; member without the permission: PermissionDenied, a 403 naming it), and
`project_ids` for a list. Nothing else compares roles.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from django.db.models import QuerySet

from taskapi.core.compiled import CompiledRead
from taskapi.core.errors import DomainError, PermissionDenied
from taskapi.core.scoping import MAX_ID, HasId
from taskapi.projects.models import Membership, Role

_ALL = frozenset({Role.OWNER.value, Role.EDITOR.value, Role.VIEWER.value})
_WRITERS = frozenset({Role.OWNER.value, Role.EDITOR.value})
_OWNER = frozenset({Role.OWNER.value})

PROJECT_READ = "project:read"
PROJECT_UPDATE = "project:update"
PROJECT_DELETE = "project:delete"
PROJECT_LEAVE = "project:leave"
MEMBER_MANAGE = "member:manage"
INVITATION_MANAGE = "invitation:manage"
TASK_READ = "task:read"
TASK_WRITE = "task:write"
TRASH_READ = "trash:read"
TRASH_WRITE = "trash:write"

PERMISSIONS: dict[str, frozenset[str]] = {
    PROJECT_READ: _ALL,
    PROJECT_UPDATE: _OWNER,
    PROJECT_DELETE: _OWNER,
    PROJECT_LEAVE: _ALL,
    MEMBER_MANAGE: _OWNER,
    INVITATION_MANAGE: _OWNER,
    TASK_READ: _ALL,
    TASK_WRITE: _WRITERS,
    TRASH_READ: _WRITERS,
    TRASH_WRITE: _WRITERS,
}


def allows(*, role: str | None, permission: str) -> bool:
    return role is not None and role in PERMISSIONS[permission]


def role_of(*, user: HasId, project_id: int) -> str | None:
    """The user's role in the project, or None for a non-member (or a project that is not)."""
    return (
        Membership.objects.filter(user_id=user.id, project_id=project_id)
        .values_list("role", flat=True)
        .first()
    )


def require_role(*, role: str | None, permission: str, not_found: type[DomainError]) -> str:
    """`role` (from a read that already joined the membership) if it holds `permission`."""
    if role is None:
        raise not_found()
    if role not in PERMISSIONS[permission]:
        raise PermissionDenied(permission)
    return role


def require(*, user: HasId, project_id: int, permission: str, not_found: type[DomainError]) -> str:
    """The user's role in the project if it holds `permission`; a non-member gets `not_found`
    (the same answer as a missing id), a member without it PermissionDenied."""
    return require_role(
        role=role_of(user=user, project_id=project_id),
        permission=permission,
        not_found=not_found,
    )


def _memberships(*, user_id: int, permission: str) -> QuerySet[Membership]:
    """The user's memberships whose role holds `permission`."""
    roles = PERMISSIONS[permission]
    memberships = Membership.objects.filter(user_id=user_id)
    if roles != _ALL:
        memberships = memberships.filter(role__in=sorted(roles))
    return memberships


def project_ids(*, user: HasId, permission: str) -> QuerySet[Membership, int]:
    """The ids of the projects where the user holds `permission`, as a subquery to filter by."""
    return _memberships(user_id=user.id, permission=permission).values_list("project_id", flat=True)


@cache
def _project_id_read(permission: str) -> CompiledRead:
    def build(*, user_id: int) -> QuerySet[Any, dict[str, Any]]:
        memberships = _memberships(user_id=user_id, permission=permission)
        # The plugin types values() of a literal as a TypedDict, not the dict CompiledRead takes.
        rows: QuerySet[Any, dict[str, Any]] = memberships.order_by().values(*("project_id",))
        return rows

    return CompiledRead(build, "user_id")


def project_id_list(*, user: HasId, permission: str) -> list[int]:
    """`project_ids` as a list, read with SQL compiled once per connection (core.compiled): a
    page of tasks asks it first, and building the query cost more than running it."""
    return [row["project_id"] for row in _project_id_read(permission).rows(user_id=user.id)]


def require_each(*, user: HasId, project_ids: Iterable[int], permission: str) -> None:
    """PermissionDenied if the user is a member of any of these projects without `permission`.
    Projects the user is not a member of pass: whoever names them gets that object's own
    not-found answer later, as for a missing id."""
    wanted = {project_id for project_id in project_ids if 1 <= project_id <= MAX_ID}
    if not wanted:
        return
    roles = Membership.objects.filter(user_id=user.id, project_id__in=wanted).values_list(
        "role", flat=True
    )
    if any(role not in PERMISSIONS[permission] for role in roles):
        raise PermissionDenied(permission)


@contextmanager
def before_other_refusals(
    *, user: HasId, projects: Callable[[], Iterable[int]], permission: str
) -> Iterator[None]:
    """Refusals come in one order: 401, the non-member's 404, the member's 403, then 412 and
    400. RFC 9110 §13.2.1 has a request's preconditions ignored when the request would be
    refused without them, and a request the caller may not make at all is refused whatever its
    content says: so a member without `permission` hears 403, not that the body is invalid.

    The policy is asked only when the block refuses (a failed precondition, an invalid body):
    a request that passes meets `require` in its service, under the project's lock, so the
    usual path reads no membership twice. `projects` names the projects the request acts in
    (it may raise a non-member's 404 itself)."""
    try:
        yield
    except Exception:
        require_each(user=user, project_ids=projects(), permission=permission)
        raise
