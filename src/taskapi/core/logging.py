import logging

from taskapi.core import context


class RequestIdFilter(logging.Filter):
    """Stamps every log record with the id of the request that emitted it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id.get()
        return True
