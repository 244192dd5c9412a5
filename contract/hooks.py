"""Schemathesis hooks for the contract run (loaded with SCHEMATHESIS_HOOKS=contract.hooks).

The extensions live in contract/fuzzing/, one concern per module; this module registers them, in
the order Schemathesis runs them:

- `auth`: users A, B and C of the run; `UserA`, the auth provider; `before_call`, which sends A's
  current access token in place of an older one; the check `auth_token_stays_valid`.
- `generation`: `map_headers`, `map_path_parameters`, `map_body`: what a generated case is given
  before it is sent (no transport headers; real trashed tasks and labels of A's for a share of
  the ids).
- `isolation`: the check `task_isolation` (user B cannot read, change, delete or list what A
  owns, nor learn that it exists), and `deliveries`: B's webhook receives only B's own events.
- `refusals`: the check `refusals_have_a_documented_reason`: a refusal of schema-valid data that
  schemathesis.toml lets through is allowed only for its documented reason.

Shared by these: `run` (one lock, the counters written to CONTRACT_STATS_FILE so the pytest side
can prove the checks and the token refresh really ran, request ids `isolation-...` that let the
coverage report tell the run's own requests from Schemathesis'), `fixtures` (objects made through
the API and read back) and `ledger` (who owns what).
"""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.adapter.security import declares_security

from contract.fuzzing import auth, generation, refusals
from contract.fuzzing.isolation import check as isolation
from contract.fuzzing.isolation import deliveries

# With CONTRACT_WEBHOOK_RECEIVER=1, B gets a webhook to a receiver of the run's own.
auth.on_first_use("B", deliveries.subscribe)

schemathesis.auth(refresh_interval=None).apply_to(lambda ctx: declares_security(ctx.operation))(
    auth.UserA
)
schemathesis.hook(auth.before_call)
schemathesis.hook(generation.map_headers)
schemathesis.hook(generation.map_path_parameters)
schemathesis.hook(generation.map_body)
# Each response goes through the checks in the order they are registered.
schemathesis.check(isolation.task_isolation)
schemathesis.check(auth.auth_token_stays_valid)
schemathesis.check(refusals.refusals_have_a_documented_reason)
