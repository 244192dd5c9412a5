"""Schemathesis hooks for the contract run (loaded with SCHEMATHESIS_HOOKS=contract.hooks).

The extensions live in contract/fuzzing/, one concern per module; this module registers them, in
the order Schemathesis runs them:

- `auth`: the users of the run; `UserA`, the auth provider; `before_call`, which sends A's
  current access token in place of an older one; the check `auth_token_stays_valid`.
- `generation`: `map_headers`, `map_path_parameters`, `map_query`, `map_body`: what a generated
  case is given before it is sent (no transport headers; for a share of the ids, real tasks and
  projects A shares, and A's labels).
- `isolation`: the check `follows_the_matrix` (every request replayed as the other subjects of
  the contract's authorization matrix gets what the matrix says), and `deliveries`: the
  subjects' webhooks receive the events of what they may see, and nothing else.
- `refusals`: the check `refusals_have_a_documented_reason`: a refusal of schema-valid data that
  schemathesis.toml lets through is allowed only for its documented reason.

Shared by these: `run` (one lock, the counters written to CONTRACT_STATS_FILE so the pytest side
can prove the checks and the token refresh really ran, request ids `isolation-...` that let the
coverage report tell the run's own requests from Schemathesis'), `fixtures` (objects made through
the API and read back), `sharing` (the projects A shares, and who is in them) and `ledger` (who
may see what).
"""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.adapter.security import declares_security

from contract.fuzzing import auth, generation, refusals
from contract.fuzzing.isolation import check as isolation
from contract.fuzzing.isolation import deliveries
from contract.fuzzing.sharing import OTHERS

# With CONTRACT_WEBHOOK_RECEIVER=1, the viewer and the non-members get webhooks to a receiver of
# the run's own (isolation/deliveries.py).
for label in OTHERS:
    auth.on_first_use(label, deliveries.subscribe)

schemathesis.auth(refresh_interval=None).apply_to(lambda ctx: declares_security(ctx.operation))(
    auth.UserA
)
schemathesis.hook(auth.before_call)
schemathesis.hook(generation.map_headers)
schemathesis.hook(generation.map_path_parameters)
schemathesis.hook(generation.map_query)
schemathesis.hook(generation.map_body)
# Each response goes through the checks in the order they are registered.
schemathesis.check(isolation.follows_the_matrix)
schemathesis.check(auth.auth_token_stays_valid)
schemathesis.check(refusals.refusals_have_a_documented_reason)
