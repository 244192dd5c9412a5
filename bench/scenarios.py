"""What the benchmark measures and the targets its report checks, read by run.py and report.py."""

# name: what is sent. Measured in this order: the reads before the writes, so the sync tokens
# walked at the start are still the latest in changes-empty.
SCENARIOS = {
    "list": "GET /tasks/?page_size=20",
    "filtered": "GET /tasks/?completed=false&ordering=-due_date",
    "labelled": "GET /tasks/?label={id}&page_size=20 (on 1 in 5 of the user's tasks)",
    "deep": "GET /tasks/ page 51 (cursor after 50 pages)",
    "retrieve": "GET /tasks/{id}/",
    "token-retrieve": "GET /tasks/{id}/ with a personal access token (tasks:read)",
    "changes": "GET /tasks/changes/?sync_token= mid-log (page 6 of 100 tasks)",
    "changes-empty": "GET /tasks/changes/?sync_token= latest (nothing new)",
    "trash": "GET /tasks/trash/?page_size=20",
    "shared": "GET /tasks/?page_size=20 as a member of 20 projects (bench/seed.py)",
    "patch": "PATCH /tasks/{id}/",
    "create": "POST /tasks/",
}
# The framework floor apps (bench/django_floor) are measured on these.
FLOOR_SCENARIOS = ("list", "retrieve")
# The project's CPU per request at most this many times django-floor's: what the project's own
# code (DRF, ORM, middleware) adds on top of Django doing the bare work. The raw baseline stays
# in the report as a reference, without a target: no Django-served route comes near it.
FLOOR_CPU_TARGET = 1.25
# The peers (bench/peers) are measured on these; the project's throughput at least this many
# times each peer's on every one of them.
PEER_SCENARIOS = ("list", "filtered", "retrieve", "create", "patch")
PEER_TARGET = 1.25
# The shared list (issue 26): the first page of a user who is a member of 20 projects of many
# tasks each costs at most this many times the plain list's (one project of 100 tasks) CPU per
# request, same run, same data set, and is index-backed: every scan of the tasks reads at most a
# page's rows (n+1) a loop, never all the tasks of the projects.
SHARED_CPU_TARGET = 1.15
# The plain list on projects at most this many times its CPU per request before projects
# (tasks/0007), the two revisions side by side in one run of `python -m bench.inprocess`.
PLAIN_LIST_TARGET = 1.05
# Retrieve with a personal access token (issue 27): the same request as `retrieve`, sent with
# a token holding tasks:read instead of a login's JWT, costs at most this many times its CPU per
# request, same run.
TOKEN_CPU_TARGET = 1.1
TOKEN_SCOPES = ("tasks:read",)
# Served by the project (and its variants) only: the baseline, the floor and the peers have no
# personal access tokens.
PROJECT_ONLY_SCENARIOS = ("token-retrieve",)
# The benchmark's servers count every token request in the cache as production does, against
# limits no run reaches: a 429 would be a cheaper answer, not the cost of a retrieve. The count's
# cache work is the same at any limit.
TOKEN_RATE_LIMITS = {
    "ACCESS_TOKEN_RATE_LIMIT": "1000000/minute",
    "ACCESS_TOKEN_USER_RATE_LIMIT": "1000000/minute",
}
