"""The cross-user isolation checks: user B cannot read, change, delete or list what user A owns,
nor learn that it exists.

- `check.task_isolation` runs on every response and hands the case to the check for its kind:
  - `path_ids`: for every generated request to an operation that takes a task, label or webhook
    id, the request's body, query and headers are replayed as B against an object A owns (C, for
    webhooks) and against an id nobody owns: both answers must be the same error, and the object
    must read back byte for byte unchanged. On the trash operations (restore, erase) A's task is
    one in A's trash, and "unchanged" means still in the trash, as it was.
  - `body_ids`: the same for ids in bodies: `parent_id` of POST /tasks/, `parent_id` and
    `after_id` of POST /tasks/{id}/move/ (on a task of B's own), and a label of A's in the
    labels of a task B creates (the 400 a missing label id gets).
  - `lists`: GET /tasks/, /tasks/trash/, /tasks/changes/, /labels/ and /webhooks/ replayed as B
    show none of A's objects or deleted ids (B sees only what it created itself), and a sync token
    issued to A is a 400 for B, exactly like a garbled one.
  - `bulk`: POST /tasks/bulk/ replayed as B with every id naming a task A owns, then an id nobody
    owns: each operation's result must be the same error (a 404 result), and A's task unchanged.
- `deliveries`: B's webhook receives events of B's own tasks only, and one for each of them.

Only contract/hooks.py imports this package: the rest of the run does not depend on it.
"""
