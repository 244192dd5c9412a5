"""What the labels app tells the apps that use labels, without importing them."""

from django.dispatch import Signal

# Sent inside the transaction that deletes a label, before its row goes, with `owner_id` and
# `label_id`: whoever refers to the label updates its own rows in the same transaction (tasks
# get a new version and a change record, so sync clients see the label leave them).
label_deleting = Signal()
