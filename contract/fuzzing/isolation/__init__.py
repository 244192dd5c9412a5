"""The authorization matrix, fuzzed: every request A's run makes is replayed as other subjects,
and each answer must be what the contract's matrix says.

- `matrix`: the contract's matrix (each operation's `x-permission`, the role x permission table in
  info.description) and the subjects: the editor (E), the viewer (V), three non-members (B never
  invited, R removed, I invited and never accepted; sharing.py sets them up), anonymous, and
  four with personal access tokens (auth.TokenHolder; one token per user and scope set): the
  editor's with every scope and the viewer's with every read scope, judged by their role as
  for a login; the non-member's (B), a missing id's answer; and T's with every scope but those
  the operation takes, the 403 of insufficient_scope naming the narrowest that would do, on
  every operation. `make test` replays each request as 2 of them in turn per operation
  (FUZZ_SUBJECTS_PER_REQUEST sets how many); `make fuzz` as all ten.
- `targets`: the objects a replay names, made afresh in the shared project (or a clone of it):
  the generated request keeps its shape, its ids become real ones, or missing ones.
- `judge`: the rules, apart from any request. For an operation needing a permission: a holder
  gets the owner's outcome for the same request, a member lacking it 403 permission-denied
  naming it, a non-member exactly the answer of a missing id (body byte for byte, end-to-end
  headers; with the object's ETag too), anonymous 401; a bulk write operation by operation.
- `check.follows_the_matrix`: runs on every response. A refused write leaves its object as the
  owner read it (ETag and body); a refused create or bulk write leaves A's changes feed empty.
  Lists and the feed show only tasks of projects where the subject holds the permission, and
  as deleted only tasks that were once in a shared project; a sync token issued to A is a 400
  for anyone else. For `authenticated` operations (labels, webhooks, invitations, projects,
  the account): another user's object id answers exactly like a missing one and stays as it
  was, and a subject's lists show only what the run gave them.
- `deliveries`: the viewer's webhook gets the creation of every task the check made in the
  shared project and nothing of any other project; the non-members' get nothing at all.

Only contract/hooks.py imports this package: the rest of the run does not depend on it.
"""
