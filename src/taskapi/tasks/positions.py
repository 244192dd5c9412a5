"""Where a task goes among its siblings: gap-based integer ranks, with a bounded rebalancing.

Siblings (live tasks of one owner under one parent) are ordered by (position, id). New tasks are
appended POSITION_GAP after the last one; a move takes the midpoint between its new neighbours,
so the common case writes one row. When no integer is left between the neighbours (16 moves into
the same gap), the smallest window of siblings around the insertion point whose span gives each
of them at least FAIR_GAP is renumbered evenly: the window doubles (1, 2, 4 ... siblings on each
side) until it fits, and is the whole sibling group at worst. Positions stay within
±POSITION_LIMIT, exactly representable as JavaScript numbers.

Every function here only reads; the caller writes the placement under the owner's lock
(services._lock_owner), which is what keeps two placements from taking the same slot.
"""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from taskapi.tasks.models import POSITION_GAP, POSITION_LIMIT, Task

# A renumbered window leaves at least this much between neighbours: 10 more moves into one gap
# before the next rebalance.
FAIR_GAP = 2**10


@dataclass(frozen=True)
class Placement:
    position: int
    # Siblings whose position must change to make room (a rebalance): id -> new position.
    renumbered: dict[int, int] = field(default_factory=dict)


def _fits(position: int) -> bool:
    return -POSITION_LIMIT < position < POSITION_LIMIT


def placement_after(*, siblings: QuerySet[Task], after: Task | None) -> Placement:
    """The place right after `after` (None: first) among `siblings`, which must not hold the
    task being placed."""
    if after is None:
        first = siblings.order_by("position").values_list("position", flat=True).first()
        if first is None:
            return Placement(position=0)
        if _fits(first - POSITION_GAP):
            return Placement(position=first - POSITION_GAP)
    else:
        following = (
            siblings.filter(position__gt=after.position)
            .order_by("position")
            .values_list("position", flat=True)
            .first()
        )
        if following is None:
            if _fits(after.position + POSITION_GAP):
                return Placement(position=after.position + POSITION_GAP)
        elif following - after.position >= 2:
            return Placement(position=(after.position + following) // 2)
    return _rebalanced(siblings=siblings, after=after)


def placement_last(*, siblings: QuerySet[Task]) -> Placement:
    last = siblings.order_by("-position").first()
    if last is None:
        return Placement(position=0)
    if _fits(last.position + POSITION_GAP):
        return Placement(position=last.position + POSITION_GAP)
    return _rebalanced(siblings=siblings, after=last)


def _rebalanced(*, siblings: QuerySet[Task], after: Task | None) -> Placement:
    reach = 1
    while True:
        if after is None:
            before: list[tuple[int, int]] = []
        else:
            before = list(
                siblings.filter(position__lte=after.position)
                .order_by("-position")
                .values_list("id", "position")[: reach + 1]
            )
        following_qs = siblings if after is None else siblings.filter(position__gt=after.position)
        following = list(
            following_qs.order_by("position").values_list("id", "position")[: reach + 1]
        )
        window = [*reversed(before[:reach]), None, *following[:reach]]
        lower = before[reach][1] if len(before) > reach else None
        upper = following[reach][1] if len(following) > reach else None
        positions = _spread(count=len(window), lower=lower, upper=upper)
        if positions is not None:
            new_index = window.index(None)
            renumbered = {
                item[0]: position
                for item, position in zip(window, positions, strict=True)
                if item is not None and item[1] != position
            }
            return Placement(position=positions[new_index], renumbered=renumbered)
        if lower is None and upper is None:
            # 2**37 siblings spaced POSITION_GAP apart would be needed to get here.
            raise RuntimeError("too many siblings to renumber within the safe range")
        reach *= 2


def _spread(*, count: int, lower: int | None, upper: int | None) -> list[int] | None:
    """`count` positions strictly between the bounds (None: no sibling beyond), evenly spaced,
    or None if they would be closer than FAIR_GAP or leave the safe range."""
    if lower is not None and upper is not None:
        gap = (upper - lower) // (count + 1)
        if gap < FAIR_GAP:
            return None
        return [lower + gap * (index + 1) for index in range(count)]
    if lower is not None:
        positions = [lower + POSITION_GAP * (index + 1) for index in range(count)]
    elif upper is not None:
        positions = [upper - POSITION_GAP * (count - index) for index in range(count)]
    else:
        # The whole sibling group: from 0, as a fresh group would be.
        positions = [POSITION_GAP * index for index in range(count)]
    if not (_fits(positions[0]) and _fits(positions[-1])):
        return None
    return positions
