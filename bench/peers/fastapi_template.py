"""Peer: the task API the way the FastAPI full-stack template writes it.

FastAPI with sync `def` endpoints (FastAPI runs them, and the sync dependencies, in its
threadpool), SQLModel table models mapped onto the project's tables, a SQLAlchemy engine on
psycopg 3 (`postgresql+psycopg://`), Pydantic (SQLModel) response models, PyJWT, and the
template's dependencies: `get_db` yields a Session, `get_current_user` decodes the bearer token
and loads the user with `session.get(User, id)`. Errors are HTTPExceptions.

Beyond the template, what the project's API asks of the same routes: tasks scoped to the
projects the user is a member of (a subquery of the memberships; a non-member's 404, a viewer's
403 on a write), a keyset cursor (the template pages with skip/limit), the reader's own label
ids on each task (a `selectinload` of the link rows with the label owner's criteria: one more
query per page), the project's create (the user's Inbox locked, the task placed last among its
top-level tasks, the change log recorded for every member) and a PATCH whose UPDATE is
conditional on the version read (SQLAlchemy's `version_id_col`), retried on a lost race as the
project does.

Configured by the project's environment (DATABASE_URL, DJANGO_SECRET_KEY or JWT_SIGNING_KEY,
DB_POOL_MAX_SIZE, REQUEST_THREADS, DB_STATEMENT_TIMEOUT_MS). One departure from the template's
deployment: a threadpool larger than the requests in flight (THREADPOOL_SIZE, why below).
Served by bench/run.py:

    .venv/bin/uvicorn bench.peers.fastapi_template:app
"""

import base64
import json
import os
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import anyio.to_thread
import jwt
from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from jwt.exceptions import InvalidTokenError
from pydantic import BaseModel, ValidationError
from sqlalchemy import Column, Integer, func, or_, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Field, Relationship, Session, SQLModel, create_engine, select

# --- core/config.py ------------------------------------------------------------------------------
SECRET_KEY = os.environ.get("JWT_SIGNING_KEY") or os.environ.get("DJANGO_SECRET_KEY", "")
ALGORITHM = "HS256"
REQUEST_THREADS = int(os.environ.get("REQUEST_THREADS") or 10)
POOL_SIZE = int(os.environ.get("DB_POOL_MAX_SIZE") or REQUEST_THREADS)
STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS") or 5000)
SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "postgresql://localhost/taskapi").replace(
    "postgres://", "postgresql+psycopg://", 1
)
POSITION_GAP = 2**16  # taskapi.tasks.models
MAX_ATTEMPTS = 3  # taskapi.tasks.services.MAX_WRITE_ATTEMPTS
# FastAPI runs each sync dependency and the endpoint in anyio's threadpool (40 threads by
# default), one hop each. The session `get_current_user` uses keeps its pooled connection from
# that hop to the end of the request, so a request waiting for a thread for its endpoint can
# hold a connection that every running thread waits for: with more requests in flight than
# threads and more than the pool holds, the process deadlocks until the pool's timeout
# (fastapi/fastapi#3205, full-stack-fastapi-template#104). More threads than requests in flight
# (the benchmark sends at most 64 at once) rules that out and keeps the project's pool size.
THREADPOOL_SIZE = 100

# --- core/db.py ----------------------------------------------------------------------------------
# The project's pool: as many connections as request threads, checked before use.
engine = create_engine(
    SQLALCHEMY_DATABASE_URI,
    pool_size=POOL_SIZE,
    max_overflow=0,
    pool_pre_ping=True,
    connect_args={"options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c TimeZone=UTC"},
)


# --- models.py -----------------------------------------------------------------------------------
class User(SQLModel, table=True):
    __tablename__ = "accounts_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str
    is_active: bool = True
    token_version: int = 0


class Project(SQLModel, table=True):
    __tablename__ = "projects_project"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="accounts_user.id")
    inbox: bool = False


class Membership(SQLModel, table=True):
    __tablename__ = "projects_membership"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects_project.id")
    user_id: int = Field(foreign_key="accounts_user.id")
    role: str


WRITERS = ("owner", "editor")  # the roles that may write tasks (taskapi.projects.policy)


class Label(SQLModel, table=True):
    __tablename__ = "labels_label"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="accounts_user.id")


class TaskLabel(SQLModel, table=True):
    __tablename__ = "tasks_tasklabel"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks_task.id")
    label_id: int = Field(foreign_key="labels_label.id")


Priority = Literal["low", "medium", "high"]


class TaskBase(SQLModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    completed: bool = False
    priority: str = Field(default="medium", max_length=6)
    due_date: date | None = None


class TaskCreate(TaskBase):
    priority: Priority = "medium"


class TaskUpdate(SQLModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    completed: bool | None = None
    priority: Priority | None = None
    due_date: date | None = None


VERSION = Column("version", Integer, nullable=False)


class Task(TaskBase, table=True):
    __tablename__ = "tasks_task"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects_project.id")
    created_by_id: int | None = Field(default=None, foreign_key="accounts_user.id")
    assignee_id: int | None = Field(default=None, foreign_key="accounts_user.id")
    completed_at: datetime | None = None
    due_at: datetime | None = None
    time_zone: str | None = None
    due_day: date | None = None
    version: int = Field(default=1, sa_column=VERSION)
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    parent_id: int | None = None
    position: int = 0
    label_links: list[TaskLabel] = Relationship()

    # UPDATE ... WHERE id = ? AND version = ?, the version bumped; StaleDataError when it lost.
    __mapper_args__ = {"version_id_col": VERSION}


class TaskPublic(TaskBase):
    id: int
    completed_at: datetime | None
    due_at: datetime | None
    time_zone: str | None
    created_at: datetime
    updated_at: datetime
    labels: list[int]
    parent_id: int | None
    position: int
    project_id: int
    assignee_id: int | None


class TasksPublic(BaseModel):
    next: str | None
    previous: str | None
    results: list[TaskPublic]


class ChangeCounter(SQLModel, table=True):
    __tablename__ = "sync_changecounter"

    owner_id: int = Field(primary_key=True)
    seq: int


class Change(SQLModel, table=True):
    __tablename__ = "sync_change"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int
    kind: str
    object_id: int
    seq: int
    deleted: bool
    changed_at: datetime


class TokenPayload(BaseModel):
    user_id: int
    ver: int
    token_type: str
    jti: str


# --- api/deps.py ---------------------------------------------------------------------------------
reusable_oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token/")


def get_db() -> Generator[Session, None, None]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
TokenDep = Annotated[str, Depends(reusable_oauth2)]


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])
        token_data = TokenPayload(**payload)
    except (InvalidTokenError, ValidationError):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED, detail="Could not validate credentials"
        ) from None
    if token_data.token_type != "access":  # noqa: S105  (a claim, not a password)
        raise HTTPException(status_code=401, detail="Could not validate credentials")
    user = session.get(User, token_data.user_id)
    if not user or user.token_version != token_data.ver:
        raise HTTPException(status_code=401, detail="Could not validate credentials")
    if not user.is_active:
        raise HTTPException(status_code=400, detail="Inactive user")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


# --- api/routes/tasks.py -------------------------------------------------------------------------
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADPOOL_SIZE
    yield


app = FastAPI(title="tasks (FastAPI template peer)", lifespan=lifespan)

Ordering = Literal[
    "created_at", "-created_at", "due_date", "-due_date", "updated_at", "-updated_at"
]


def task_public(task: Task, labels: list[int] | None = None) -> TaskPublic:
    if labels is None:
        labels = sorted(link.label_id for link in task.label_links)
    return TaskPublic.model_validate(task, update={"labels": labels})


def member_of(user: User) -> Any:
    """The ids of the projects the user is a member of, as a subquery."""
    return select(Membership.project_id).where(Membership.user_id == user.id)


def own_labels(user: User) -> Any:
    """The link rows of the user's own labels: labels are personal."""
    return Task.label_links.and_(
        TaskLabel.label_id.in_(select(Label.id).where(Label.owner_id == user.id))
    )


def get_live_task(session: Session, user: User, task_id: int) -> tuple[Task, str]:
    """The task and the user's role in its project; a non-member gets the missing id's 404."""
    task = session.get(Task, task_id, options=[selectinload(own_labels(user))])
    role = None
    if task and task.deleted_at is None:
        role = session.exec(
            select(Membership.role).where(
                Membership.project_id == task.project_id, Membership.user_id == user.id
            )
        ).first()
    if role is None:
        raise HTTPException(status_code=404, detail="Task not found")
    return task, role


def encode_cursor(ordering: str, task: Task, backwards: bool) -> str:
    column = ordering.lstrip("-").replace("due_date", "due_day")
    value = getattr(task, column)
    raw = [ordering, value.isoformat() if value is not None else None, task.id, backwards]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()


def decode_cursor(cursor: str, ordering: str) -> tuple[Any, int, bool]:
    try:
        cursor_ordering, value, task_id, backwards = json.loads(base64.urlsafe_b64decode(cursor))
        if cursor_ordering != ordering or not isinstance(task_id, int):
            raise ValueError("not a cursor of this ordering")
        if value is not None:
            is_date = ordering.lstrip("-") == "due_date"
            value = date.fromisoformat(value) if is_date else datetime.fromisoformat(value)
    except (ValueError, TypeError):
        raise HTTPException(status_code=400, detail="Invalid cursor") from None
    return value, task_id, bool(backwards)


@app.get("/health/")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/tasks/", response_model=TasksPublic)
def read_tasks(
    request: Request,
    session: SessionDep,
    current_user: CurrentUser,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
    completed: bool | None = None,
    priority: Priority | None = None,
    ordering: Ordering = "-created_at",
) -> Any:
    column = getattr(Task, ordering.lstrip("-").replace("due_date", "due_day"))
    statement = select(Task).where(
        Task.project_id.in_(member_of(current_user)), Task.deleted_at.is_(None)
    )
    if completed is not None:
        statement = statement.where(Task.completed == completed)
    if priority is not None:
        statement = statement.where(Task.priority == priority)
    descending = ordering.startswith("-")
    backwards = False
    if cursor:
        value, after_id, backwards = decode_cursor(cursor, ordering)
        # Walking back is walking the other way; NULLs sort last ascending, first descending.
        later = descending == backwards
        if value is None:
            seek = column.is_(None) & ((Task.id > after_id) if later else (Task.id < after_id))
            statement = statement.where(seek if later else or_(seek, column.is_not(None)))
        else:
            key, position = tuple_(column, Task.id), tuple_(value, after_id)
            seek = (key > position) if later else (key < position)
            statement = statement.where(or_(seek, column.is_(None)) if later else seek)
    walk_descending = descending != backwards
    if walk_descending:
        statement = statement.order_by(column.desc().nulls_first(), Task.id.desc())
    else:
        statement = statement.order_by(column.asc().nulls_last(), Task.id.asc())
    statement = statement.options(selectinload(own_labels(current_user))).limit(page_size + 1)
    tasks = list(session.exec(statement).all())
    has_more = len(tasks) > page_size
    tasks = tasks[:page_size]
    if backwards:
        tasks.reverse()
    has_next, has_previous = (True, has_more) if backwards else (has_more, cursor is not None)
    next_link = previous_link = None
    if tasks and has_next:
        next_cursor = encode_cursor(ordering, tasks[-1], False)
        next_link = str(request.url.include_query_params(cursor=next_cursor))
    if tasks and has_previous:
        previous_cursor = encode_cursor(ordering, tasks[0], True)
        previous_link = str(request.url.include_query_params(cursor=previous_cursor))
    return TasksPublic(
        next=next_link, previous=previous_link, results=[task_public(t) for t in tasks]
    )


@app.get("/tasks/{task_id}/", response_model=TaskPublic)
def read_task(session: SessionDep, current_user: CurrentUser, task_id: int) -> Any:
    task, _role = get_live_task(session, current_user, task_id)
    return task_public(task)


def record_change(session: Session, task: Task, now: datetime) -> None:
    """The project's change log (taskapi.sync), for every member of the task's project in
    ascending user id: the member's next number, then the task's record for them."""
    readers = session.exec(
        select(Membership.user_id)
        .where(Membership.project_id == task.project_id)
        .order_by(Membership.user_id)
    ).all()
    for reader in readers:
        counter = (
            insert(ChangeCounter)
            .values(owner_id=reader, seq=1)
            .on_conflict_do_update(
                index_elements=[ChangeCounter.owner_id], set_={"seq": ChangeCounter.seq + 1}
            )
            .returning(ChangeCounter.seq)
        )
        seq = session.exec(counter).scalar_one()
        change = insert(Change).values(
            owner_id=reader, kind="task", object_id=task.id, seq=seq, deleted=False, changed_at=now
        )
        session.exec(
            change.on_conflict_do_update(
                index_elements=[Change.owner_id, Change.kind, Change.object_id],
                set_={
                    "seq": change.excluded.seq,
                    "deleted": change.excluded.deleted,
                    "changed_at": change.excluded.changed_at,
                },
            )
        )


@app.post("/tasks/", response_model=TaskPublic, status_code=201)
def create_task(*, session: SessionDep, current_user: CurrentUser, task_in: TaskCreate) -> Any:
    # As the project: the user's Inbox locked, then the new task goes last among its top level.
    inbox = session.exec(
        select(Project.id)
        .where(Project.owner_id == current_user.id, Project.inbox)
        .with_for_update(key_share=True)
    ).one()
    last = session.exec(
        select(func.max(Task.position)).where(
            Task.project_id == inbox, Task.parent_id.is_(None), Task.deleted_at.is_(None)
        )
    ).one()
    now = datetime.now(UTC)
    task = Task.model_validate(
        task_in,
        update={
            "project_id": inbox,
            "created_by_id": current_user.id,
            "completed_at": now if task_in.completed else None,
            "due_day": task_in.due_date,
            "created_at": now,
            "updated_at": now,
            "position": 0 if last is None else last + POSITION_GAP,
        },
    )
    session.add(task)
    session.flush()
    record_change(session, task, now)
    session.commit()
    session.refresh(task)
    return task_public(task, labels=[])


@app.patch("/tasks/{task_id}/", response_model=TaskPublic)
def update_task(
    *, session: SessionDep, current_user: CurrentUser, task_id: int, task_in: TaskUpdate
) -> Any:
    update_dict = task_in.model_dump(exclude_unset=True)
    for _attempt in range(MAX_ATTEMPTS):
        task, role = get_live_task(session, current_user, task_id)
        if role not in WRITERS:
            raise HTTPException(status_code=403, detail="Your role lacks task:write")
        # The reader's labels as read (the commit expires them, and a lazy load reads them all).
        labels = sorted(link.label_id for link in task.label_links)
        now = datetime.now(UTC)
        values = {**update_dict, "updated_at": now}
        if not values.get("completed", task.completed):
            values["completed_at"] = None
        elif not task.completed:
            values["completed_at"] = now
        if "due_date" in values:
            values["due_day"] = values["due_date"]
        task.sqlmodel_update(values)
        session.add(task)
        try:
            session.flush()
        except StaleDataError:
            session.rollback()  # another write slipped in between: read it again
            continue
        record_change(session, task, now)
        session.commit()
        session.refresh(task)
        return task_public(task, labels=labels)
    raise HTTPException(status_code=409, detail="The task changed meanwhile")
