"""What the projects app tells the apps whose objects live in projects, without importing them.

Each is sent inside the transaction that changes membership, before the change for the two that
take access away (the receivers still see who was a member) and after it for the one that grants
it. The tasks app answers with change records (taskapi.sync), so that every member's changes feed
follows who can see what.
"""

from django.dispatch import Signal

# `project_id`, `user_id`: the user is now a member (an accepted invitation).
member_joined = Signal()
# `project_id`, `user_id`: the user is about to stop being a member (left, removed, or their
# account is going).
member_leaving = Signal()
# `project_id`: the project and everything in it is about to be erased.
project_deleting = Signal()
