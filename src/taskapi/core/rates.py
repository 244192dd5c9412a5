"""Rate strings such as "10/minute": one parser for the settings' start-up check and the throttles.

No Django imports: the settings parse their rates with it before Django is set up.
"""

import re

PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
RATE_FORMAT = "N/second|minute|hour|day with N at least 1"
_RATE = re.compile(r"\s*([0-9]+)\s*/\s*([a-z]+)\s*", re.IGNORECASE)


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/minute' → (10, 60). ValueError for anything else, "0/minute" included."""
    match = _RATE.fullmatch(rate)
    seconds = PERIODS.get(match[2].lower()) if match else None
    if match is None or seconds is None or int(match[1]) < 1:
        raise ValueError(f"{rate!r} is not a rate ({RATE_FORMAT})")
    return int(match[1]), seconds
