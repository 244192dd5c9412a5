"""Top frames of a py-spy flame graph, as text: `python -m bench.flame_summary FILE.svg [N]`;
of collapsed stacks (py-spy --format raw, FILE.txt): CPU by package of the innermost frame.

A frame's share is the samples with it on the stack (inclusive), summed over the places it
appears; recursion (Django's middleware chain) can push a frame past 100 %.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

TITLE = re.compile(r"<title>(.*?) \(([\d,]+) samples?, ([\d.]+)%\)</title>")


def top_frames(svg: Path, count: int = 40) -> list[tuple[float, str]]:
    shares: dict[str, float] = {}
    for name, _samples, percent in TITLE.findall(svg.read_text()):
        frame = html.unescape(name)
        shares[frame] = shares.get(frame, 0.0) + float(percent)
    return sorted(((share, frame) for frame, share in shares.items()), reverse=True)[:count]


PACKAGES = (
    ("asgiref/", "asgiref: sync/async switches, threads"),
    ("concurrent/futures", "thread pools"),
    ("threading.py", "thread pools"),
    ("django/core/handlers/asgi", "Django ASGI handler"),
    ("django/db/", "Django ORM"),
    ("django/", "Django other (middleware, request, signals)"),
    ("rest_framework_simplejwt/", "simplejwt + PyJWT"),
    ("jwt/", "simplejwt + PyJWT"),
    ("rest_framework/", "DRF"),
    ("django_filters/", "django-filter"),
    ("django_prometheus/", "django-prometheus"),
    ("prometheus_client/", "django-prometheus"),
    ("pythonjsonlogger/", "logging"),
    ("logging/", "logging"),
    ("psycopg", "psycopg"),
    ("redis/", "redis client"),
    ("whitenoise/", "WhiteNoise"),
    ("uvicorn/", "Uvicorn"),
    ("asyncio/", "asyncio event loop"),
    ("taskapi/", "taskapi"),
    ("copy.py", "copy.deepcopy"),
    ("json/", "json module"),
)


def self_time_by_package(raw: Path) -> list[tuple[float, str]]:
    """Share of samples whose innermost frame is in each package (py-spy --format raw)."""
    totals: dict[str, int] = {}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.rsplit(";", 1)[-1]
        group = next((name for key, name in PACKAGES if key in leaf), "other")
        totals[group] = totals.get(group, 0) + int(count)
    total = sum(totals.values()) or 1
    return sorted(((100 * n / total, group) for group, n in totals.items()), reverse=True)


def main(argv: list[str]) -> None:
    count = int(argv[1]) if len(argv) > 1 else 40
    if argv[0].endswith(".txt"):
        for share, group in self_time_by_package(Path(argv[0])):
            print(f"{share:7.2f} %  {group}")
        return
    for share, frame in top_frames(Path(argv[0]), count):
        print(f"{share:7.2f} %  {frame}")


if __name__ == "__main__":
    main(sys.argv[1:])
