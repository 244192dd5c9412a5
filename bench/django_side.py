"""The benchmark's steps that need the project itself, run in a child process with the app's
environment (same database, Redis and secret as the served app):

  python -m bench.django_side prepare              migrate; print one password hash to reuse
  python -m bench.django_side tokens ID...         access tokens from the project's token code
  python -m bench.django_side pats ID...           personal access tokens (tasks:read), and the
                                                   token rate limits these settings give
  python -m bench.django_side queries SPEC.json    SQL per request of each scenario, in-process

Each prints one JSON document on stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import django

from bench.report import is_user_lookup


def _prepare() -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    # One hash for every seeded user: hashing a million passwords would take hours, and only the
    # few users that log in need a valid one.
    return {"password_hash": make_password("bench-password-not-secret")}


def _tokens(user_ids: list[int]) -> dict:
    from taskapi.accounts.models import User
    from taskapi.accounts.services import token_pair_issue

    users = User.objects.in_bulk(user_ids)
    return {str(pk): token_pair_issue(user=users[pk]).access for pk in user_ids}


def _personal_tokens(user_ids: list[int]) -> dict:
    """A personal access token with bench/scenarios.py's TOKEN_SCOPES for each user, made by the
    project's own service, and the rate limits the settings give (the environment's, or the
    revision's defaults). Nothing on a revision from before access tokens."""
    from django.conf import settings

    from bench.scenarios import TOKEN_RATE_LIMITS, TOKEN_SCOPES
    from taskapi.accounts.models import User

    try:
        from taskapi.access_tokens.services import token_create
    except ImportError:
        return {"tokens": {}, "limits": {}}
    users = User.objects.in_bulk(user_ids)
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    tokens = {
        str(pk): token_create(
            user=users[pk], name="bench", scopes=list(TOKEN_SCOPES), expires_at=expires_at
        )[1]
        for pk in user_ids
    }
    limits = {name: getattr(settings, name) for name in TOKEN_RATE_LIMITS}
    return {"tokens": tokens, "limits": limits}


# Counted apart from the queries, as pg_stat_statements' figures are in the report.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def _queries(spec: dict) -> dict:
    """For each request: the statements Django ran (after one warm-up request, so the token
    version is cached the way it is under load), the queries apart from transaction control,
    and EXPLAIN ANALYZE of its reads."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers={"Authorization": f"Bearer {spec['token']}"}, HTTP_HOST="localhost")
    client.get("/tasks/?page_size=1")  # fills the token-version cache
    results = {}
    for name, request in spec["requests"].items():
        method, path, body = request["method"], request["path"], request.get("body")
        call = getattr(client, method.lower())
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body else {}
        with CaptureQueriesContext(connection) as captured:
            response = call(path, **kwargs)
        statements = [query["sql"] for query in captured.captured_queries]
        control = [sql for sql in statements if sql.startswith(TRANSACTION_CONTROL)]
        plans = []
        if request.get("explain"):
            with connection.cursor() as cursor:
                for sql in statements:
                    if sql.lstrip().upper().startswith("SELECT"):
                        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                        plans.append("\n".join(row[0] for row in cursor.fetchall()))
        results[name] = {
            "status": response.status_code,
            "queries": len(statements) - len(control),
            "transaction": len(control),
            "user_table_queries": sum(is_user_lookup(sql) for sql in statements),
            "sql": statements,
            "plans": plans,
        }
    return results


def main(argv: list[str]) -> None:
    django.setup()
    command = argv[0]
    if command == "prepare":
        result = _prepare()
    elif command == "tokens":
        result = _tokens([int(arg) for arg in argv[1:]])
    elif command == "pats":
        result = _personal_tokens([int(arg) for arg in argv[1:]])
    elif command == "queries":
        with open(argv[1]) as spec:
            result = _queries(json.load(spec))
    else:
        raise SystemExit(f"unknown command {command!r}")
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
