"""Sync tokens: positions signed for one user."""

import pytest

from taskapi.sync.errors import SyncTokenInvalid
from taskapi.sync.tokens import FeedPosition, sync_token_issue, sync_token_read


def test_a_token_gives_back_its_position_to_its_user():
    position = FeedPosition(seq=41, object_id=2**62)

    assert sync_token_read(owner_id=7, token=sync_token_issue(owner_id=7, position=position)) == (
        position
    )


def test_another_users_token_is_invalid():
    token = sync_token_issue(owner_id=7, position=FeedPosition(seq=1, object_id=1))

    with pytest.raises(SyncTokenInvalid):
        sync_token_read(owner_id=8, token=token)


def test_an_edited_position_is_invalid():
    token = sync_token_issue(owner_id=7, position=FeedPosition(seq=1, object_id=1))
    _payload, timestamp, signature = token.split(":")
    forged = sync_token_issue(owner_id=7, position=FeedPosition(seq=9, object_id=9)).split(":")[0]

    with pytest.raises(SyncTokenInvalid):
        sync_token_read(owner_id=7, token=f"{forged}:{timestamp}:{signature}")
