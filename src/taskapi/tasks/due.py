"""When a task is due: the rules that tie `due_date`, `due_at` and `time_zone` together, and the
internal `due_day` the due filters and the due_date ordering use.

- A task is due on a day (`due_date`), at an instant (`due_at`, in `time_zone`), or not at all;
  never both.
- `time_zone` is set exactly when `due_at` is. Left out (or null) with a `due_at`, it is the
  task's current zone if it has one (PATCH), else UTC (POST, PUT: their serializer fills it in,
  since a replacement keeps nothing of the task it replaces).
- `due_day` is `due_date`, or the local date of `due_at` in `time_zone`: the day the owner sees
  the task due, whatever the UTC date of the instant.

Zones come from the `tzdata` package, not the machine's /usr/share/zoneinfo: the same names and
rules on every machine and in the image (pinned in constraints.txt).
"""

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from taskapi.core.errors import FieldsInvalid

DEFAULT_TIME_ZONE = "UTC"
# The fields a write may send that decide when a task is due; the service writes DUE_COLUMNS.
DUE_FIELDS = ("due_date", "due_at", "time_zone")
DUE_COLUMNS = (*DUE_FIELDS, "due_day")

# Read once: every IANA zone name tzdata ships (links such as US/Eastern included), but not the
# machine-dependent "localtime" that zoneinfo.available_timezones() adds from the system.
ZONE_NAMES: frozenset[str] = frozenset(
    resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
)


class HasDue(Protocol):
    due_date: date | None
    due_at: datetime | None
    time_zone: str | None


def is_known_zone(name: str) -> bool:
    return name in ZONE_NAMES


@cache
def zone_info(name: str) -> ZoneInfo:
    """The zone from tzdata's own files (ZoneInfo(name) would prefer the system's)."""
    path = resources.files("tzdata.zoneinfo").joinpath(*name.split("/"))
    with path.open("rb") as data:
        return ZoneInfo.from_file(data, key=name)


def local_day(*, due_at: datetime, time_zone: str) -> date:
    """The date of `due_at` on a wall clock in `time_zone`; a 400 on `due_at` when that date
    is outside years 1 to 9999 (an instant at the very edge, in a zone far from UTC)."""
    try:
        return due_at.astimezone(zone_info(time_zone)).date()
    except OverflowError:
        raise FieldsInvalid(
            field="due_at",
            code="out_of_range",
            message="The date of due_at in its time_zone must be in the years 1 to 9999.",
        ) from None


def due_resolve(*, current: HasDue | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The due columns (DUE_COLUMNS) a write leaves on a task: `current` (None on create) with
    `changes` applied. A 400 naming the field when the result breaks a rule."""

    def resulting(field: str) -> Any:
        if field in changes:
            return changes[field]
        return getattr(current, field) if current is not None else None

    due_date, due_at = resulting("due_date"), resulting("due_at")
    # A null time_zone means "no zone given", as leaving it out does: a client that PUTs back
    # a task it read ({"due_at": null, "time_zone": null}) with a new due_at gets UTC, not a 400.
    time_zone = changes.get("time_zone")
    if due_date is not None and due_at is not None:
        # Named after due_at, the field that makes the difference in every such request: a
        # PATCH of due_at on a task with a due_date must also send "due_date": null.
        raise FieldsInvalid(
            field="due_at",
            code="conflict",
            message="A task has a due_date or a due_at, not both; send the other one as null.",
        )
    if due_at is None:
        if time_zone is not None:
            raise FieldsInvalid(
                field="time_zone",
                code="without_due_at",
                message="A time_zone goes with a due_at; this task would have none.",
            )
        return {"due_date": due_date, "due_at": None, "time_zone": None, "due_day": due_date}
    if time_zone is None:
        time_zone = (current.time_zone if current is not None else None) or DEFAULT_TIME_ZONE
    elif not is_known_zone(time_zone):
        raise FieldsInvalid(
            field="time_zone", code="unknown_zone", message="Not an IANA time zone name."
        )
    day = local_day(due_at=due_at, time_zone=time_zone)
    return {"due_date": None, "due_at": due_at, "time_zone": time_zone, "due_day": day}
