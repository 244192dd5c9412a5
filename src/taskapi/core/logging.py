import logging

from taskapi.core import context


class RequestIdFilter(logging.Filter):
    """Stamps every log record with the id of the request that emitted it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id.get()
        return True


class ClientMistakeFilter(logging.Filter):
    """For loggers that report a client's mistake rather than the server's (a Host this server
    does not serve, which scanners send all day): one WARNING line, without the traceback that
    Django attaches, so the log keeps the event without the noise of an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
