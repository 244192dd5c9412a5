"""Typed, checked reads of the environment: a bad value stops start-up with one line.

Each reader is django-environ's read plus the check of what the setting needs. A bad value raises
ConfigurationError, whose message is one line that names the variable, says what is wrong with
the value and gives a good one:

    LOG_LEVEL='LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL; for example LOG_LEVEL=INFO

manage.py and asgi.py start inside `configuration_checked()`, which prints that line instead of a
traceback and exits with STARTUP_FAILURE. An empty value counts as unset, as in an env file's
`NAME=` line. Values are quoted with ascii(): a newline or control character in one
cannot break the line, and secrets (keys, URL passwords) are never repeated.

No Django set-up here, and no import of Django's settings: this runs while they load.
"""

import base64
import builtins
import ipaddress
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import Any, NoReturn
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from taskapi.core.rates import RATE_FORMAT, parse_rate

# Uvicorn's STARTUP_FAILURE and gunicorn's WORKER_BOOT_ERROR: a worker that exits with it stops
# the whole server. Any other status, and they start the worker again, forever.
STARTUP_FAILURE = 3
# A value longer than this is cut in the line.
SHOWN_MAX = 80
# Django's own default for DJANGO_SETTINGS_MODULE in manage.py and asgi.py.
SETTINGS_MODULE = "taskapi.settings.base"
# What the lines give as a good secret: a command that prints a fresh one, never a value.
SECRET_EXAMPLE = "$(python -c 'import secrets; print(secrets.token_urlsafe(64))')"  # noqa: S105
FERNET_EXAMPLE = (
    "$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
)

# An ALLOWED_HOSTS entry (Django's forms): a name, a ".name" for it and its subdomains, an IPv4
# address, an [IPv6] address, or "*". Never a scheme, port or path: those never match a request.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_PATTERN = re.compile(rf"\*|\.?{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\]", re.IGNORECASE)
_TRUE = {"true", "on", "ok", "y", "yes", "1"}  # what django-environ reads as true
_FALSE = {"false", "off", "n", "no", "0"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigurationError(ImproperlyConfigured):
    """A bad environment variable. Its message is the whole report, on one line."""


def _shown(value: str) -> str:
    if len(value) > SHOWN_MAX:
        value = value[:SHOWN_MAX] + "..."
    return ascii(value)


def configuration_error(
    name: str, value: str | None, problem: str, example: object
) -> ConfigurationError:
    """`NAME='value' problem; for example NAME=example`, or `NAME problem; ...` when the value is
    a secret or unset (pass None)."""
    subject = name if value is None else f"{name}={_shown(value)}"
    return ConfigurationError(f"{subject} {problem}; for example {name}={example}")


def refuse(name: str, value: str | None, problem: str, example: object) -> NoReturn:
    """Stop start-up with the line of configuration_error()."""
    raise configuration_error(name, value, problem, example)


def _without_password(url: str) -> str | None:
    """`url` with the password of its user info replaced by ***; None if it cannot be parsed."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return None
    userinfo, at, host = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return url.replace(netloc, f"{user}:***@{host}", 1)


def is_host_pattern(entry: str) -> bool:
    return _HOST_PATTERN.fullmatch(entry) is not None


def is_network(entry: str) -> bool:
    # The parse client_address() makes of TRUSTED_PROXIES at request time.
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True


def _number(value: float) -> str:
    return f"{value:g}"


class Env:
    """django-environ's reads, each checked. `example` defaults to the setting's default."""

    def __init__(self) -> None:
        self._env = environ.Env()

    def _raw(self, name: str, example: object) -> str | None:
        """The value as set, or None when it is unset or empty."""
        try:
            value: str = self._env.str(name, default="")
        except ImproperlyConfigured:  # "$OTHER": django-environ's reference to another variable
            refuse(name, None, "refers (with $) to a variable that is not set", example)
        return value if value.strip() else None

    def conflict(self, name: str, value: object, problem: str, example: object) -> NoReturn:
        """Refuse `name` for how its value relates to another variable's; says when the value
        is the default rather than one that was set."""
        if self._raw(name, example) is None:
            refuse(name, None, f"(unset, so {value}) {problem}", example)
        refuse(name, str(value), problem, example)

    def choice(self, name: str, *, default: str, choices: tuple[str, ...]) -> str:
        value = self._raw(name, default)
        if value is None:
            return default
        if value.strip().upper() not in choices:
            refuse(name, value, f"is not one of {', '.join(choices)}", default)
        return value.strip().upper()

    def _entries(
        self,
        name: str,
        *,
        default: list[str],
        example: str,
        kind: str,
        check: Callable[[str], bool],
    ) -> list[str]:
        """A comma-separated list, each entry `check`ed; spaces around entries are dropped."""
        value = self._raw(name, example)
        if value is None:
            return default
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if not check(entry):
                what = "is not" if entry == value.strip() else f"has {entry!a}, which is not"
                refuse(name, value, f"{what} {kind}", example)
        return entries

    def hosts(self, name: str, *, default: list[str], example: str) -> list[str]:
        """Host names as ALLOWED_HOSTS takes them."""
        kind = "a host name (no scheme, port or path)"
        return self._entries(
            name, default=default, example=example, kind=kind, check=is_host_pattern
        )

    def networks(self, name: str, *, default: list[str], example: str) -> list[str]:
        """IP addresses or CIDR networks."""
        kind = "an IP address or network"
        return self._entries(name, default=default, example=example, kind=kind, check=is_network)

    def rate(self, name: str, *, default: str) -> str:
        """A rate such as "10/minute", read by the throttles with the same parser."""
        value = self._raw(name, default)
        if value is None:
            return default
        try:
            parse_rate(value)
        except ValueError:
            refuse(name, value, f"is not a rate ({RATE_FORMAT})", default)
        return value

    def path(self, name: str, *, default: str, example: str) -> str:
        """An absolute path: a relative one would depend on the directory the process starts in."""
        value = self._raw(name, example)
        if value is None:
            return default
        if not PurePosixPath(value).is_absolute():
            refuse(name, value, "is not an absolute path", example)
        return value

    def directory(self, name: str, *, example: str) -> str | None:
        """An existing directory, or None when unset. Set but empty is refused: some readers
        take the variable's presence for a value."""
        value = self._raw(name, example)
        if value is None:
            if name in os.environ:
                refuse(name, os.environ[name], "is empty: unset it, or name a directory", example)
            return None
        if not PurePosixPath(value).is_absolute() or not os.path.isdir(value):
            refuse(name, value, "is not the absolute path of an existing directory", example)
        return value

    def db(self, name: str, *, default: str, example: str) -> dict[str, Any]:
        """A PostgreSQL or SQLite URL, as Django's DATABASES entry. Its password is never shown."""
        value = self._raw(name, example)
        url = default if value is None else value
        shown = None if value is None else _without_password(value)
        try:
            with warnings.catch_warnings():
                # django-environ warns of an unknown scheme with the parsed URL, password included.
                warnings.simplefilter("ignore")
                config: dict[str, Any] = self._env.db_url_config(url)
        except ValueError:  # a port that is not a number, say
            refuse(name, shown, "is not a valid URL", example)
        engine = config.get("ENGINE", "")
        if engine not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
            problem = "is not a PostgreSQL (postgres://) or SQLite (sqlite://) URL"
            refuse(name, shown, problem, example)
        if not config.get("NAME"):
            refuse(name, shown, "names no database (the path after the host)", example)
        return config

    def redis_url(self, name: str, *, example: str) -> str:
        """A Redis URL, checked by the parser Django's RedisCache hands it to; "" when unset."""
        value = self._raw(name, example)
        if value is None:
            return ""
        from redis.connection import parse_url  # only where Redis is configured

        try:
            parse_url(value)  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        except ValueError:
            problem = "is not a valid Redis URL (redis://, rediss:// or unix://, a numeric port)"
            refuse(name, _without_password(value), problem, example)
        return value

    def fernet_keys(self, name: str, *, derived_from: str) -> list[str]:
        """Fernet keys, comma-separated, newest first; unset: one derived from `derived_from`
        (HKDF-SHA256), so nothing more needs setting and the database alone still opens nothing.
        A refusal never repeats a key."""
        from cryptography.fernet import Fernet  # only here: settings load before the app
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        value = self._raw(name, FERNET_EXAMPLE)
        if value is None:
            if not derived_from:
                return []
            kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=name.encode())
            return [base64.urlsafe_b64encode(kdf.derive(derived_from.encode())).decode()]
        keys = [key.strip() for key in value.split(",") if key.strip()]
        for position, key in enumerate(keys, start=1):
            try:
                Fernet(key)
            except (ValueError, TypeError):
                problem = f"entry {position} is not a Fernet key (32 bytes, url-safe base64)"
                refuse(name, None, problem, FERNET_EXAMPLE)
        return keys

    # Named like django-environ's readers, so they shadow the builtins inside this class: the
    # annotations below say builtins.
    def str(self, name: builtins.str, *, default: builtins.str) -> builtins.str:
        value = self._raw(name, default)
        return default if value is None else value

    def int(
        self,
        name: builtins.str,
        *,
        default: builtins.int,
        minimum: builtins.int | None = None,
        unit: builtins.str = "",
        example: builtins.int | None = None,
    ) -> builtins.int:
        good = default if example is None else example
        value = self._raw(name, good)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            refuse(name, value, f"is not a whole number{f' of {unit}' if unit else ''}", good)
        if minimum is not None and number < minimum:
            refuse(name, value, f"is less than {minimum}", good)
        return number

    def float(
        self,
        name: builtins.str,
        *,
        default: builtins.float,
        above: builtins.float | None = None,
        maximum: builtins.float | None = None,
        unit: builtins.str = "",
    ) -> builtins.float:
        good = _number(default)
        value = self._raw(name, good)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            refuse(name, value, f"is not a number{f' of {unit}' if unit else ''}", good)
        if above is not None and not number > above:
            refuse(name, value, f"is not more than {_number(above)}", good)
        if maximum is not None and number > maximum:
            refuse(name, value, f"is more than {_number(maximum)}", good)
        return number

    def bool(self, name: builtins.str, *, default: builtins.bool) -> builtins.bool:
        # Stricter than django-environ, which reads anything but its true words as false.
        good = "true" if default else "false"
        value = self._raw(name, good)
        if value is None:
            return default
        word = value.strip().lower()
        if word not in _TRUE | _FALSE:
            refuse(name, value, "is not true or false", good)
        return word in _TRUE


def _explained(error: Exception) -> ConfigurationError | None:
    """The line for an error of loading the settings, when the environment explains it."""
    if isinstance(error, ConfigurationError):
        return error
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "").strip()
    if isinstance(error, ImproperlyConfigured) and not module:  # "settings are not configured"
        return configuration_error("DJANGO_SETTINGS_MODULE", None, "is not set", SETTINGS_MODULE)
    missing = error.name if isinstance(error, ModuleNotFoundError) else None
    # Only the settings module itself (or a package on its path): a module that the settings
    # import is missing is the installation's problem, not this variable's, and keeps its traceback.
    if missing and (module == missing or module.startswith(f"{missing}.")):
        problem = "is not a settings module"
        return configuration_error("DJANGO_SETTINGS_MODULE", module, problem, SETTINGS_MODULE)
    return None


@contextmanager
def configuration_checked() -> Iterator[None]:
    """Around a process's start (manage.py, asgi.py), where the settings first load: a bad variable
    prints its one line on stderr and exits with STARTUP_FAILURE. No traceback, no 500 later, and
    no server starting its workers again forever."""
    try:
        yield
    except (ImproperlyConfigured, ModuleNotFoundError) as error:
        explained = _explained(error)
        if explained is None:
            raise
        print(explained, file=sys.stderr, flush=True)
        raise SystemExit(STARTUP_FAILURE) from None
