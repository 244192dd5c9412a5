"""The baseline's changes feed reads and issues the project's sync tokens: bench/baseline_app.py
signs them as Django's TimestampSigner does, without Django, so both feeds do the same signing
work and a token means the same position to both."""

import time

import pytest
from bench.baseline_app import SyncTokenExpired as BaselineTokenExpired
from bench.baseline_app import sync_token_issue, sync_token_read
from django.conf import settings

from taskapi.sync.errors import SyncTokenExpired, SyncTokenInvalid
from taskapi.sync.tokens import FeedPosition
from taskapi.sync.tokens import sync_token_issue as project_issue
from taskapi.sync.tokens import sync_token_read as project_read

MAX_AGE = 30 * 86400


def test_a_project_token_reads_as_its_position_in_the_baseline():
    token = project_issue(owner_id=7, position=FeedPosition(seq=500, object_id=123456))

    assert sync_token_read(7, token, settings.SECRET_KEY, MAX_AGE) == (500, 123456)


def test_a_baseline_token_reads_as_its_position_in_the_project():
    token = sync_token_issue(7, (500, 123456), settings.SECRET_KEY)

    assert project_read(owner_id=7, token=token) == FeedPosition(seq=500, object_id=123456)


def test_the_baseline_refuses_another_users_token():
    token = project_issue(owner_id=7, position=FeedPosition(seq=1, object_id=2))

    assert sync_token_read(8, token, settings.SECRET_KEY, MAX_AGE) is None


def test_the_project_refuses_a_baseline_token_signed_with_another_key():
    token = sync_token_issue(7, (1, 2), "another-key")

    with pytest.raises(SyncTokenInvalid):
        project_read(owner_id=7, token=token)


def test_the_baseline_refuses_an_old_project_token(monkeypatch):
    token = project_issue(owner_id=7, position=FeedPosition(seq=1, object_id=2))
    later = time.time() + MAX_AGE + 10
    monkeypatch.setattr(time, "time", lambda: later)

    with pytest.raises(BaselineTokenExpired):
        sync_token_read(7, token, settings.SECRET_KEY, MAX_AGE)
    with pytest.raises(SyncTokenExpired):
        project_read(owner_id=7, token=token)
