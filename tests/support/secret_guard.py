"""An autouse fixture that fails a test if a password or a password hash reaches a response body
or a log line while it runs.

Import `no_secret_leaks` into a conftest.py to guard every test below it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator

import pytest
from django.core.handlers.base import BaseHandler
from pythonjsonlogger.json import JsonFormatter

from tests.factories import PASSWORD

# The "<algorithm>$" prefix of every hash Django's hashers write.
HASH = re.compile(r"\b(pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt_sha256|bcrypt|scrypt|md5|sha1)\$")
MIN_SECRET_LENGTH = 6  # shorter "passwords" sent by validation tests occur anywhere by chance


class SecretWatch(logging.Handler):
    """Collects every response body and log line, and every password the test sent."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter("%(name)s %(levelname)s %(message)s"))
        self.secrets: set[str] = {PASSWORD}
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))

    def note_request_body(self, body: bytes) -> None:
        try:
            data = json.loads(body)
        except ValueError:
            return
        if isinstance(data, dict):
            for key, value in data.items():
                if "password" in key and isinstance(value, str):
                    self.secrets.add(value)

    def note_response_body(self, body: bytes) -> None:
        self.texts.append(body.decode("utf-8", "replace"))

    def leaks(self) -> list[str]:
        found = []
        for text in self.texts:
            if HASH.search(text):
                found.append(f"password hash in: {text[:200]}")
            found.extend(
                f"password {secret[:3]}... in: {text[:200]}"
                for secret in self.secrets
                if len(secret) >= MIN_SECRET_LENGTH and secret in text
            )
        return found


@pytest.fixture(autouse=True)
def no_secret_leaks(monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretWatch]:
    watch = SecretWatch()
    get_response = BaseHandler.get_response

    def watched_get_response(self: BaseHandler, request):  # type: ignore[no-untyped-def]
        # Read before the view does (Django keeps a copy); a body it refuses is not ours to see.
        with contextlib.suppress(Exception):
            watch.note_request_body(request.body)
        response = get_response(self, request)
        if not response.streaming:
            watch.note_response_body(response.content)
        return response

    monkeypatch.setattr(BaseHandler, "get_response", watched_get_response)
    root = logging.getLogger()
    root.addHandler(watch)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
    leaks = watch.leaks()
    assert not leaks, "\n".join(leaks)
