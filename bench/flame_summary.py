"""Top frames of a py-spy flame graph, as text: `python -m bench.flame_summary FILE.svg [N]`.

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


def main(argv: list[str]) -> None:
    count = int(argv[1]) if len(argv) > 1 else 40
    for share, frame in top_frames(Path(argv[0]), count):
        print(f"{share:7.2f} %  {frame}")


if __name__ == "__main__":
    main(sys.argv[1:])
