"""A database dump alone cannot use a token: every column of a token's row, read with plain
SQL as a copy of the database gives it, is tried as a Bearer credential (alone, and as the
token it would have to be part of) and none authenticates. The real token does, so the check
can tell the difference."""

import pytest

from taskapi.access_tokens.models import PersonalAccessToken
from taskapi.access_tokens.secrets import PREFIX
from tests.access_tokens.conftest import client_with, make_token
from tests.support.dump import dumped_row

pytestmark = pytest.mark.django_db


def test_nothing_in_a_dumped_token_row_authenticates_a_request(user):
    text = make_token(user)
    row = dumped_row(PersonalAccessToken, PersonalAccessToken.objects.get(user=user).pk)
    assert client_with(text).get("/auth/me/").status_code == 200

    values = [str(value) for value in row.values() if value is not None]
    candidates = {
        *values,
        *(f"{PREFIX}{value}" for value in values),
        # What a forger would build from the row: the key id with the stored hash as secret.
        f"{PREFIX}{row['key_id']}{row['secret_hash']}",
        f"{PREFIX}{row['key_id']}{str(row['secret_hash'])[:49]}",
    }

    assert text not in candidates
    assert not any(text[len(PREFIX) + 12 : -6] in value for value in values), row
    refused = {
        candidate: client_with(candidate).get("/auth/me/").status_code for candidate in candidates
    }
    assert set(refused.values()) == {401}, refused
