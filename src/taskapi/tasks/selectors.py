"""Every read of tasks goes through task_list (live tasks) or task_trash_list (the trash),
which scope it to the projects where the user holds the permission to read them
(taskapi.projects.policy): a task of a project the user is not a member of does not exist.

`user` is anything with an integer `.id` (the request's light token user or a User row): only
the id is ever compared, so no query loads the user. Labels are personal: a task's `labels` are
the reader's own labels on it, whoever else labelled it.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Aggregate, CharField, F, Lookup, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from taskapi.core.compiled import CompiledRead
from taskapi.core.scoping import HasId, id_check, scoped_get
from taskapi.projects import policy
from taskapi.projects.errors import ProjectNotFound
from taskapi.tasks.errors import TaskNotFound
from taskapi.tasks.models import Task, TaskLabel


@dataclass
class Owner:
    """A HasId for code that knows only a user's id (a signal, a compiled read)."""

    id: int


class _IdList(Aggregate):
    """A group's ids as text ("3,7"), in no particular order: GROUP_CONCAT on SQLite,
    STRING_AGG on PostgreSQL."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s((%(expressions)s)::text, ',')",
            **extra_context,
        )


def _label_ids(reader_id: int) -> Subquery:
    """The reader's own labels on each task (another member's labels never show)."""
    ids = (
        TaskLabel.objects.filter(task_id=OuterRef("pk"), label__owner_id=reader_id)
        .values("task_id")
        .annotate(ids=_IdList("label_id"))
        .values("ids")
    )
    return Subquery(ids)


def _with_label_ids(tasks: QuerySet[Task], *, reader_id: int) -> QuerySet[Task]:
    """Each task with the reader's label ids (`label_ids_text`, read by Task.label_ids), in the
    same statement: a correlated subquery on the (task, label) index, not a query per page.
    UPDATE and DELETE querysets drop it (Django clears annotations there)."""
    return tasks.annotate(label_ids_text=_label_ids(reader_id))


def task_list(*, user: HasId) -> QuerySet[Task]:
    """The tasks of every project where the user may read tasks, without those in the trash."""
    readable = policy.project_ids(user=user, permission=policy.TASK_READ)
    tasks = Task.objects.filter(project_id__in=readable, deleted_at__isnull=True)
    return _with_label_ids(tasks, reader_id=user.id)


def task_page_projects(*, user: HasId, permission: str = policy.TASK_READ) -> list[int]:
    """The ids of the projects a page of tasks reads from: one short statement on the
    membership index, so that the page's own statement names them as values."""
    return policy.project_id_list(user=user, permission=permission)


def task_page_source(
    *,
    user: HasId,
    permission: str = policy.TASK_READ,
    projects: Sequence[int] | None = None,
) -> QuerySet[Task]:
    """What a page of GET /tasks/ (or, with TRASH_READ, GET /tasks/trash/) reads from: task_list
    or task_trash_list over `projects`, the user's (task_page_projects, read here when not
    given).

    With one project (the Inbox alone, most users) the page is `project_id = P`: one range of
    the (project, ordering key, id) index, however many tasks the table holds. A subquery
    instead leaves PostgreSQL to sort every task of the user's projects for each page; with
    several projects, so does `project_id IN (...)`, which task_page_slice avoids.
    """
    if projects is None:
        projects = task_page_projects(user=user, permission=permission)
    trashed = permission == policy.TRASH_READ
    tasks = Task.objects.filter(deleted_at__isnull=not trashed)
    if len(projects) == 1:
        tasks = tasks.filter(project_id=projects[0])
    elif connections[tasks.db].vendor == "postgresql":
        tasks = tasks.filter(_AnyOf(F("project_id"), list(projects)))
    else:
        tasks = tasks.filter(project_id__in=projects)
    return _with_label_ids(tasks, reader_id=user.id)


def _bigint_array(ids: Sequence[int]) -> str:
    """Integer ids as one PostgreSQL array literal parameter ("{3,7}"): psycopg adapts a Python
    list several times slower, and a page of several projects passes the ids three times."""
    return "{" + ",".join(str(int(pk)) for pk in ids) + "}"


class _AnyOf(Lookup):
    """`column = ANY(%s::bigint[])` (PostgreSQL): the ids as one array parameter, which Django
    compiles faster than `IN` with a parameter per id (a page compiles it twice, see
    task_page_slice); the plan is the same."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, _bigint_array(self.rhs)]


def task_page_slice(
    rows: QuerySet[Task, Any], *, projects: Sequence[int], limit: int
) -> Iterable[dict[str, Any]]:
    """The first `limit` of `rows` (a page source as `values()`, filtered, ordered and
    seeking) when they span `projects`.

    PostgreSQL cannot walk `project_id IN (...) ORDER BY key LIMIT n` in index order across
    projects: it reads every task of the projects and sorts them, at each page (1.3 s for a
    member of 20 projects of 50,000 tasks; bench/README.md, "The shared list"). The first n
    of all are among the first n of each project, and those are one index range each: so on
    PostgreSQL, with several projects, the page is the query itself for each project (a
    LATERAL subquery per project id, `project_id = page_project.id` added to its conditions),
    at most n index rows a project, and the first n of their union. One project, or SQLite
    (tests and local runs), keep the plain form.

    The query is compiled once, as `rows[:limit]` would be, and the union is written around
    its SQL: the shared list may cost at most 1.15x the plain list's CPU, and building the
    same as nested querysets cost 0.6 ms a page, as much as the rest of the request's queries.
    The rows are converted as `values()` converts them. Should the compiled SQL not end with
    the positional ORDER BY and LIMIT that `values()` pages get, the union is built as
    querysets instead (_page_merged).
    """
    if len(projects) < 2 or connections[rows.db].vendor != "postgresql":
        return rows[:limit]
    each = rows.filter(project_id=RawSQL("page_project.id", []))[:limit]
    query = each.query
    compiler = query.get_compiler(using=rows.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # a filter that matches nothing (`.none()`: a label id past MAX_ID)
        return []
    head, _, order = sql.rpartition(" ORDER BY ")
    order, _, tail = order.partition(" LIMIT ")
    if not (head and _POSITIONS.fullmatch(order) and tail == str(limit)):
        return _page_merged(rows, projects=projects, limit=limit)
    # Only Django's compiled SQL and constants in the text; every value is a parameter.
    union = (
        "SELECT page.* FROM unnest(%s::bigint[]) AS page_project(id) "  # noqa: S608  # nosec B608
        f"CROSS JOIN LATERAL ({sql}) AS page ORDER BY {order} LIMIT {limit}"
    )
    with connections[rows.db].cursor() as cursor:
        cursor.execute(union, [_bigint_array(projects), *params])
        fetched = cursor.fetchall()
    # As ValuesIterable names a row's values (core/compiled.py does the same).
    if query.selected:
        names: tuple[str, ...] = tuple(query.selected)
    else:
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
    converted = compiler.results_iter(results=[fetched])
    return [dict(zip(names, row, strict=True)) for row in converted]


# The ORDER BY of a values() page: the select list's columns by position ("10 DESC, 1 DESC"),
# which the union's own ORDER BY can name again.
_POSITIONS = re.compile(r"\d+ (?:ASC|DESC)(?:, \d+ (?:ASC|DESC))*")


def _page_merged(
    rows: QuerySet[Task, Any], *, projects: Sequence[int], limit: int
) -> QuerySet[Task, Any]:
    """task_page_slice as querysets: each project's first ids (a LATERAL subquery per project
    id), then the first `limit` rows among them, fetched by primary key."""
    each = rows.filter(project_id=RawSQL("page_project.id", [])).values("pk")[:limit]
    sql, params = each.query.get_compiler(using=rows.db).as_sql()
    # Only Django's compiled SQL and constants in the text; every value is a parameter.
    ids = RawSQL(  # noqa: S611  # nosec B611
        "SELECT page.pk FROM unnest(%s::bigint[]) AS page_project(id) "  # noqa: S608  # nosec B608
        f"CROSS JOIN LATERAL ({sql}) AS page",
        [_bigint_array(projects), *params],
    )
    return rows.filter(pk__in=ids)[:limit]


def task_trash_list(*, user: HasId) -> QuerySet[Task]:
    """The trash of every project where the user may read the trash (not a viewer's)."""
    readable = policy.project_ids(user=user, permission=policy.TRASH_READ)
    tasks = Task.objects.filter(project_id__in=readable, deleted_at__isnull=False)
    return _with_label_ids(tasks, reader_id=user.id)


def task_trash_of_project(*, user: HasId, project_id: int) -> QuerySet[Task]:
    """One project's trash: a non-member's 404 (as the project's), a viewer's 403."""
    id_check(project_id, not_found=ProjectNotFound)
    policy.require(
        user=user, project_id=project_id, permission=policy.TRASH_READ, not_found=ProjectNotFound
    )
    tasks = Task.objects.filter(project_id=project_id, deleted_at__isnull=False)
    return _with_label_ids(tasks, reader_id=user.id)


def task_member_trash_list(*, user: HasId) -> QuerySet[Task]:
    """The trash of every project the user is a member of, whatever the role: where a trashed
    task is found before the policy decides (a viewer's restore is a 403, not a 404)."""
    member_of = policy.project_ids(user=user, permission=policy.TASK_READ)
    tasks = Task.objects.filter(project_id__in=member_of, deleted_at__isnull=False)
    return _with_label_ids(tasks, reader_id=user.id)


def task_project_trash(*, project_id: int, reader: HasId) -> QuerySet[Task]:
    """One project's trash with the reader's labels (an event of a task just trashed: every
    member who could see it hears of it, a viewer too)."""
    tasks = Task.objects.filter(project_id=project_id, deleted_at__isnull=False)
    return _with_label_ids(tasks, reader_id=reader.id)


def project_tasks(*, project_id: int) -> QuerySet[Task]:
    """The live tasks of one project, for services that already checked the user's role."""
    return Task.objects.filter(project_id=project_id, deleted_at__isnull=True)


def task_get(*, user: HasId, task_id: int) -> Task:
    return scoped_get(task_list(user=user), object_id=task_id, not_found=TaskNotFound)


def task_values_get(*, user: HasId, task_id: int, columns: Sequence[str]) -> dict[str, Any]:
    """task_get as a row of `columns` (QuerySet.values()), rendered without a model instance.
    Its SQL is compiled once per connection (core.compiled): the read of a single task is the
    API's most frequent, and building the QuerySet cost more than running it."""
    id_check(task_id, not_found=TaskNotFound)
    rows = _task_row_read(tuple(columns)).rows(owner_id=user.id, task_id=task_id)
    if not rows:
        raise TaskNotFound()
    return rows[0]


@cache
def _task_row_read(columns: tuple[str, ...]) -> CompiledRead:
    def build(*, owner_id: int, task_id: int) -> QuerySet[Task, dict[str, Any]]:
        # The plugin cannot type values() of names it does not see as literals.
        rows: QuerySet[Task, dict[str, Any]] = (
            task_list(user=Owner(owner_id)).filter(pk=task_id).values(*columns)
        )
        return rows

    return CompiledRead(build, "owner_id", "task_id")


def task_get_for_update(*, user: HasId, task_id: int) -> Task:
    """task_get, locking the row until the transaction ends (a no-op on SQLite, whose write
    transactions are serialized anyway)."""
    tasks = task_list(user=user).select_for_update(no_key=True)
    return scoped_get(tasks, object_id=task_id, not_found=TaskNotFound)


def task_trashed_get(*, user: HasId, task_id: int) -> Task:
    """A task in the trash of a project the user is a member of (any role: the caller asks the
    policy next, so that a viewer gets a 403 and a non-member a 404)."""
    return scoped_get(task_member_trash_list(user=user), object_id=task_id, not_found=TaskNotFound)
