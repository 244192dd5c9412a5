import re
import uuid

_SANE = re.compile(r"[A-Za-z0-9._-]{1,128}")


def request_id_from(incoming: str | None) -> str:
    """Keep a sane incoming X-Request-ID (tracing across services); replace anything else."""
    if incoming and _SANE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex
