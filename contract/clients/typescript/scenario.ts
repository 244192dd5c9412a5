/**
 * A consumer's session through openapi-fetch, typed by openapi-typescript from openapi.yaml (run by
 * contract/test_clients.py: api.ts is generated next to this file, both are compiled with
 * `tsc --strict`, and node runs the result with BASE_URL set).
 *
 * At compile time every path, parameter and body is checked against the contract, and `data` and
 * `error` carry the contract's types: a problem `type` or `status` an operation cannot answer, or
 * a field the contract does not have, does not compile. At run time node's assert checks that each
 * body has every field its type names, with values of their types.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./api.js";

type Schemas = components["schemas"];
type Task = Schemas["Task"];
type TokenPair = Schemas["TokenPair"];
type Project = Schemas["Project"];
type Api = Client<paths>;

const PASSWORD = "difference-engine-1822";
// Enough open tasks for three pages of PAGE_SIZE, plus one completed task the filter must drop.
const OPEN_TASKS = 5;
const PAGE_SIZE = 2;

/** Every key of T, in a list checked at compile time: leaving one out does not compile. */
function everyKeyOf<T>() {
  return <const K extends readonly (keyof T)[]>(
    keys: K & ([keyof T] extends [K[number]] ? unknown : "lists fewer keys than the type has"),
  ): K => keys;
}

const TASK_KEYS = everyKeyOf<Task>()([
  "id",
  "title",
  "description",
  "completed",
  "completed_at",
  "priority",
  "due_date",
  "due_at",
  "time_zone",
  "created_at",
  "updated_at",
  "labels",
  "parent_id",
  "position",
  "project_id",
  "assignee_id",
]);
const LABEL_KEYS = everyKeyOf<Schemas["Label"]>()([
  "id",
  "name",
  "color",
  "created_at",
  "updated_at",
]);
const PAGE_KEYS = everyKeyOf<Schemas["TaskPage"]>()(["results", "next", "previous"]);
const USER_KEYS = everyKeyOf<Schemas["UserOut"]>()(["id", "email", "date_joined"]);
const TOKEN_PAIR_KEYS = everyKeyOf<TokenPair>()(["access", "refresh"]);
const PROJECT_KEYS = everyKeyOf<Project>()([
  "id",
  "name",
  "color",
  "inbox",
  "owner_id",
  "role",
  "created_at",
  "updated_at",
]);
const MEMBER_KEYS = everyKeyOf<Schemas["Member"]>()(["user_id", "email", "role", "joined_at"]);
const INVITATION_KEYS = everyKeyOf<Schemas["Invitation"]>()([
  "id",
  "project_id",
  "project_name",
  "email",
  "role",
  "invited_by",
  "created_at",
  "expires_at",
]);
const ACCESS_TOKEN_KEYS = everyKeyOf<Schemas["AccessToken"]>()([
  "id",
  "name",
  "prefix",
  "scopes",
  "created_at",
  "expires_at",
  "last_used_at",
]);
const NEW_ACCESS_TOKEN_KEYS = everyKeyOf<Schemas["AccessTokenWithSecret"]>()([
  ...ACCESS_TOKEN_KEYS,
  "token",
]);
const ROLES = everyKeyOf<Record<Schemas["Role"], unknown>>()(["owner", "editor", "viewer"]);
const PRIORITIES = everyKeyOf<Record<Schemas["Priority"], unknown>>()(["low", "medium", "high"]);
const PROBLEM_KEYS = ["type", "title", "status", "detail"] as const satisfies readonly (
  keyof Schemas["Problem"]
)[];

/** `body`, which must have every field in `keys`; others are tolerated, as the contract says. */
function hasFields<T extends object>(
  body: T | undefined,
  keys: readonly (keyof T)[],
  what: string,
): T {
  assert.ok(body, `${what}: no body`);
  for (const key of keys) assert.ok(key in body, `${what}: no ${String(key)}`);
  return body;
}

function isTimestamp(value: unknown): boolean {
  return typeof value === "string" && value.endsWith("Z") && !Number.isNaN(Date.parse(value));
}

function task(body: Task | undefined, what: string): Task {
  const checked = hasFields(body, TASK_KEYS, what);
  assert.ok(Number.isInteger(checked.id) && checked.id >= 1, `${what}: id`);
  assert.equal(typeof checked.title, "string", `${what}: title`);
  assert.equal(typeof checked.description, "string", `${what}: description`);
  assert.equal(typeof checked.completed, "boolean", `${what}: completed`);
  assert.ok(checked.completed_at === null || isTimestamp(checked.completed_at), what);
  assert.ok(PRIORITIES.includes(checked.priority), `${what}: priority`);
  assert.ok(checked.due_date === null || /^\d{4}-\d{2}-\d{2}$/.test(checked.due_date), what);
  assert.ok(checked.due_at === null || isTimestamp(checked.due_at), `${what}: due_at`);
  assert.equal(checked.time_zone === null, checked.due_at === null, `${what}: time_zone`);
  assert.ok(isTimestamp(checked.created_at) && isTimestamp(checked.updated_at), what);
  assert.ok(checked.labels.every((id) => Number.isInteger(id) && id >= 1), `${what}: labels`);
  assert.ok(Number.isInteger(checked.project_id) && checked.project_id >= 1, `${what}: project`);
  assert.ok(checked.assignee_id === null || Number.isInteger(checked.assignee_id), what);
  return checked;
}

function project(body: Project | undefined, what: string): Project {
  const checked = hasFields(body, PROJECT_KEYS, what);
  assert.ok(Number.isInteger(checked.id) && checked.id >= 1, `${what}: id`);
  assert.equal(typeof checked.name, "string", `${what}: name`);
  assert.ok(checked.color === null || /^#[0-9a-f]{6}$/.test(checked.color), `${what}: color`);
  assert.equal(typeof checked.inbox, "boolean", `${what}: inbox`);
  assert.ok(Number.isInteger(checked.owner_id), `${what}: owner_id`);
  assert.ok(ROLES.includes(checked.role), `${what}: role`);
  assert.ok(isTimestamp(checked.created_at) && isTimestamp(checked.updated_at), what);
  return checked;
}

function tokenPair(body: TokenPair | undefined, what: string): TokenPair {
  const pair = hasFields(body, TOKEN_PAIR_KEYS, what);
  for (const token of [pair.access, pair.refresh]) assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  return pair;
}

/** The members of the union E whose `type` can be T. */
type OfType<E, T> = E extends { type: infer U } ? (T extends U ? E : never) : never;

/**
 * The problem narrowed to the schema of its `type`. `type` must be one the operation can answer,
 * and `status` the one that schema gives it (else this does not compile); at run time the body
 * must be a problem of that type and status.
 */
function problem<E extends { type: string; status: number }, T extends E["type"]>(
  error: E | undefined,
  response: Response,
  type: T,
  status: OfType<E, T>["status"],
): OfType<E, T> {
  assert.ok(error, `HTTP ${response.status}: no problem body`);
  for (const key of PROBLEM_KEYS) assert.ok(key in error, `problem without ${key}`);
  assert.equal(response.headers.get("Content-Type"), "application/problem+json");
  assert.equal(error.type, type);
  assert.equal(error.status, status);
  assert.equal(response.status, status);
  return error as OfType<E, T>;
}

/** A new user with `email`, logged in: the user, and a client with their access token. */
async function signUp(baseUrl: string, email: string) {
  const anonymous = createClient<paths>({ baseUrl });
  const credentials = { email, password: PASSWORD };
  const registered = await anonymous.POST("/auth/register/", { body: credentials });
  assert.equal(registered.response.status, 201);
  const user = hasFields(registered.data, USER_KEYS, "user");
  const login = await anonymous.POST("/auth/login/", { body: credentials });
  const { access } = tokenPair(login.data, "login");
  const headers = { Authorization: `Bearer ${access}` };
  return { user, client: createClient<paths>({ baseUrl, headers }) };
}

/** The invitee finds the invitation addressed to them, accepts it, and cannot accept it twice. */
async function join(
  member: Api,
  invitedTo: Project,
  role: Schemas["MemberRole"],
  invitedBy: string,
): Promise<void> {
  const mine = await member.GET("/invitations/");
  assert.equal(mine.response.status, 200);
  const invitations = (mine.data?.results ?? []).map((item) =>
    hasFields(item, INVITATION_KEYS, "my invitation"),
  );
  assert.deepEqual(
    invitations.map((item) => [item.project_id, item.project_name, item.role, item.invited_by]),
    [[invitedTo.id, invitedTo.name, role, invitedBy]],
  );
  const path = { invitation_id: invitations[0].id };
  const accepted = await member.POST("/invitations/{invitation_id}/accept/", { params: { path } });
  assert.equal(accepted.response.status, 200);
  const joined = project(accepted.data, "joined project");
  assert.deepEqual([joined.id, joined.role, joined.inbox], [invitedTo.id, role, false]);
  const again = await member.POST("/invitations/{invitation_id}/accept/", { params: { path } });
  problem(again.error, again.response, "/problems/not-found", 404);
}

/** Invite an editor and a viewer; the editor works on a task, the viewer's write is a 403. */
async function shareAProject(baseUrl: string, owner: Api, ownerEmail: string): Promise<void> {
  const created = await owner.POST("/projects/", {
    body: { name: "Engine notes", color: "#1F77B4" },
  });
  assert.equal(created.response.status, 201);
  const shared = project(created.data, "created project");
  assert.deepEqual([shared.role, shared.color, shared.inbox], ["owner", "#1f77b4", false]);
  const emails: Record<Schemas["MemberRole"], string> = {
    editor: `editor-${randomUUID().slice(0, 12)}@example.com`,
    viewer: `viewer-${randomUUID().slice(0, 12)}@example.com`,
  };
  for (const role of ["editor", "viewer"] as const) {
    // Before the invitee has an account: an invitation looks none up.
    const invited = await owner.POST("/projects/{id}/invitations/", {
      params: { path: { id: shared.id } },
      body: { email: emails[role].toUpperCase(), role },
    });
    assert.equal(invited.response.status, 201);
    const invitation = hasFields(invited.data, INVITATION_KEYS, "invitation");
    const expected = [emails[role], role, ownerEmail];
    assert.deepEqual([invitation.email, invitation.role, invitation.invited_by], expected);
    assert.ok(Date.parse(invitation.expires_at) > Date.parse(invitation.created_at));
  }
  const editor = await signUp(baseUrl, emails.editor);
  const viewer = await signUp(baseUrl, emails.viewer);
  await join(editor.client, shared, "editor", ownerEmail);
  await join(viewer.client, shared, "viewer", ownerEmail);

  const made = await editor.client.POST("/tasks/", {
    body: { title: "Check the tables", project_id: shared.id, assignee_id: editor.user.id },
  });
  assert.equal(made.response.status, 201);
  const note = task(made.data, "shared task");
  assert.deepEqual([note.project_id, note.assignee_id], [shared.id, editor.user.id]);
  const path = { id: note.id };
  const edited = await editor.client.PATCH("/tasks/{id}/", {
    params: { path },
    body: { priority: "high" },
  });
  assert.equal(task(edited.data, "edited shared task").priority, "high");
  const listed = await owner.GET("/tasks/", { params: { query: { project_id: shared.id } } });
  const projectPage = hasFields(listed.data, PAGE_KEYS, "project's page");
  assert.deepEqual(
    projectPage.results.map((item) => item.id),
    [note.id],
  );
  const read = await viewer.client.GET("/tasks/{id}/", { params: { path } });
  assert.equal(task(read.data, "task the viewer reads").id, note.id);

  const refused = await viewer.client.PATCH("/tasks/{id}/", {
    params: { path },
    body: { completed: true },
  });
  const denied: Schemas["PermissionDeniedProblem"] = problem(
    refused.error,
    refused.response,
    "/problems/permission-denied",
    403,
  );
  assert.equal(denied.permission, "task:write");
  const unchanged = await owner.GET("/tasks/{id}/", { params: { path } });
  assert.equal(task(unchanged.data, "task after the refusal").completed, false);

  const listedMembers = await owner.GET("/projects/{id}/members/", {
    params: { path: { id: shared.id } },
  });
  assert.equal(listedMembers.response.status, 200);
  const members = (listedMembers.data?.results ?? []).map((item) =>
    hasFields(item, MEMBER_KEYS, "member"),
  );
  assert.deepEqual(
    members.map((member) => [member.email, member.role]),
    [
      [ownerEmail, "owner"],
      [emails.editor, "editor"],
      [emails.viewer, "viewer"],
    ],
  );
}

/**
 * A personal access token that may only read tasks: it lists the user's tasks, its write is the
 * typed 403 naming the scope it lacks, and once the login deletes it, it is a 401.
 */
async function handAScriptAReadToken(baseUrl: string, login: Api): Promise<void> {
  const expiresAt = new Date(Date.now() + 30 * 24 * 60 * 60 * 1000);
  const created = await login.POST("/auth/tokens/", {
    body: { name: "nightly report", scopes: ["tasks:read"], expires_at: expiresAt.toISOString() },
  });
  assert.equal(created.response.status, 201);
  const made = hasFields(created.data, NEW_ACCESS_TOKEN_KEYS, "created access token");
  const expectedToken = ["nightly report", ["tasks:read"], null];
  assert.deepEqual([made.name, made.scopes, made.last_used_at], expectedToken);
  assert.ok(Math.abs(Date.parse(made.expires_at) - expiresAt.getTime()) < 1000, made.expires_at);
  assert.match(made.token, /^cta_pat_[0-9A-Za-z]{61}$/);
  assert.ok(made.token.startsWith(made.prefix), made.prefix);
  assert.ok(created.response.headers.get("Location")?.endsWith(`/auth/tokens/${made.id}/`));
  assert.equal(created.response.headers.get("Cache-Control"), "no-store");
  const script = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${made.token}` },
  });

  // The token acts as its user: the same tasks as the login sees.
  const listed = await script.GET("/tasks/");
  assert.equal(listed.response.status, 200);
  const scriptPage = hasFields(listed.data, PAGE_KEYS, "the token's page");
  const expected = await login.GET("/tasks/");
  const loginPage = hasFields(expected.data, PAGE_KEYS, "the login's page");
  assert.ok(scriptPage.results.length > 0, "the user has tasks: an empty list would prove nothing");
  assert.deepEqual(
    scriptPage.results.map((item) => task(item, "task the token reads").id),
    loginPage.results.map((item) => item.id),
  );
  const used = await login.GET("/auth/tokens/{id}/", { params: { path: { id: made.id } } });
  const usedToken = hasFields(used.data, ACCESS_TOKEN_KEYS, "used access token");
  assert.ok(usedToken.last_used_at !== null && isTimestamp(usedToken.last_used_at));

  const refused = await script.POST("/tasks/", { body: { title: "From the script" } });
  const denied: Schemas["PermissionDeniedProblem"] = problem(
    refused.error,
    refused.response,
    "/problems/permission-denied",
    403,
  );
  // Typed as the contract's optional string (a problem without `scope` would be `unknown`).
  const scope: string | undefined = denied.scope;
  assert.deepEqual([denied.permission, scope], ["tasks:write", "tasks:write"]);
  const challenge = refused.response.headers.get("WWW-Authenticate") ?? "";
  assert.ok(challenge.startsWith('Bearer realm="api", error="insufficient_scope"'), challenge);
  assert.ok(challenge.endsWith(', scope="tasks:write"'), challenge);
  const after = await login.GET("/tasks/");
  assert.deepEqual(after.data, expected.data, "a refused write created a task");

  const path = { id: made.id };
  const deleted = await login.DELETE("/auth/tokens/{id}/", { params: { path } });
  assert.equal(deleted.response.status, 204);
  const revoked = await script.GET("/tasks/");
  const unauthenticated: Schemas["NotAuthenticatedProblem"] = problem(
    revoked.error,
    revoked.response,
    "/problems/not-authenticated",
    401,
  );
  assert.ok(unauthenticated.detail.length > 0);
  const revokedChallenge = revoked.response.headers.get("WWW-Authenticate") ?? "";
  assert.ok(revokedChallenge.includes('error="invalid_token"'), revokedChallenge);
  const gone = await login.GET("/auth/tokens/{id}/", { params: { path } });
  problem(gone.error, gone.response, "/problems/not-found", 404);
}

async function main(baseUrl: string): Promise<void> {
  const anonymous = createClient<paths>({ baseUrl });

  // The contract is YAML: read as text, as openapi-fetch does for any body that is not JSON.
  const contract = await anonymous.GET("/openapi.yaml", { parseAs: "text" });
  assert.equal(contract.response.status, 200);
  assert.ok(contract.data?.startsWith("openapi: 3.1.0\n"));

  const email = `client-${randomUUID().slice(0, 12)}@example.com`;
  const credentials = { email, password: PASSWORD };
  const registered = await anonymous.POST("/auth/register/", { body: credentials });
  assert.equal(registered.response.status, 201);
  assert.equal(hasFields(registered.data, USER_KEYS, "user").email, email);

  const logIn = async (): Promise<TokenPair> => {
    const login = await anonymous.POST("/auth/login/", { body: credentials });
    assert.equal(login.response.status, 200);
    return tokenPair(login.data, "login");
  };
  const refresh = (token: string) =>
    anonymous.POST("/auth/refresh/", { body: { refresh: token } });

  const first = await logIn();
  const second = await refresh(first.refresh);
  assert.equal(second.response.status, 200);
  // The new refresh token works (before the old one is replayed: that revokes the family)...
  const third = await refresh(tokenPair(second.data, "refresh").refresh);
  tokenPair(third.data, "second refresh");
  // ...and the used one is refused, as the typed problem.
  const reused = await refresh(first.refresh);
  const invalid: Schemas["InvalidTokenProblem"] = problem(
    reused.error,
    reused.response,
    "/problems/invalid-token",
    401,
  );
  assert.ok(invalid.detail.length > 0);

  // Replaying a used refresh token ends its family: log in again, as the contract tells clients.
  const access = (await logIn()).access;
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${access}` } });

  const key = randomUUID();
  const idempotent = { header: { "Idempotency-Key": key } };
  const body: Schemas["TaskCreate"] = {
    title: "Write the notes",
    description: "On the analytical engine.",
  };
  const created = await client.POST("/tasks/", { params: idempotent, body });
  assert.equal(created.response.status, 201);
  const original = task(created.data, "created task");
  assert.equal(created.response.headers.get("Idempotent-Replayed"), null);
  const etag = created.response.headers.get("ETag");
  assert.ok(etag);
  const replay = await client.POST("/tasks/", { params: idempotent, body });
  assert.equal(replay.response.status, 201);
  assert.equal(task(replay.data, "replayed task").id, original.id);
  assert.equal(replay.response.headers.get("Idempotent-Replayed"), "true");
  assert.equal(replay.response.headers.get("ETag"), etag);

  const openIds = [original.id];
  for (let number = 0; number < OPEN_TASKS - 1; number++) {
    const more = await client.POST("/tasks/", { body: { title: `Open ${number}` } });
    openIds.push(task(more.data, "open task").id);
  }
  const done = await client.POST("/tasks/", { body: { title: "Done", completed: true } });
  assert.equal(task(done.data, "completed task").completed, true);
  // A due time with its zone comes back in UTC (completed: not one of the open tasks listed).
  const timed = await client.POST("/tasks/", {
    body: {
      title: "Call the printer",
      completed: true,
      due_at: "2026-12-31T23:30:00-05:00",
      time_zone: "America/New_York",
    },
  });
  const timedTask = task(timed.data, "timed task");
  assert.equal(timedTask.due_at, "2027-01-01T04:30:00Z");
  assert.equal(timedTask.time_zone, "America/New_York");

  const listed: number[] = [];
  let pages = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await client.GET("/tasks/", {
      params: { query: { completed: false, page_size: PAGE_SIZE, cursor } },
    });
    assert.equal(page.response.status, 200);
    const checked = hasFields(page.data, PAGE_KEYS, "page");
    pages += 1;
    assert.ok(checked.results.length <= PAGE_SIZE);
    for (const item of checked.results) assert.equal(task(item, "listed task").completed, false);
    listed.push(...checked.results.map((item) => item.id));
    if (checked.next === null) break;
    // The link carries the cursor; the filters it came with are sent again, as the contract asks.
    cursor = new URL(checked.next).searchParams.get("cursor") ?? undefined;
    assert.ok(cursor, `next link without a cursor: ${checked.next}`);
  }
  assert.deepEqual([...listed].sort(), [...openIds].sort());
  assert.ok(pages >= 3, `${pages} pages`);

  const path = { id: original.id };
  const unchanged = await client.GET("/tasks/{id}/", {
    params: { path, header: { "If-None-Match": etag } },
  });
  assert.equal(unchanged.response.status, 304);
  assert.equal(unchanged.data, undefined);

  // Another client of the same user changes the task: the ETag held here goes stale.
  const elsewhere = await client.PATCH("/tasks/{id}/", {
    params: { path },
    body: { priority: "high" },
  });
  assert.equal(task(elsewhere.data, "changed elsewhere").priority, "high");
  const stale = await client.PATCH("/tasks/{id}/", {
    params: { path, header: { "If-Match": etag } },
    body: { title: "Lost update" },
  });
  const precondition: Schemas["PreconditionFailedProblem"] = problem(
    stale.error,
    stale.response,
    "/problems/precondition-failed",
    412,
  );
  assert.ok(precondition.detail.length > 0);

  const freshEtag = elsewhere.response.headers.get("ETag");
  assert.ok(freshEtag && freshEtag !== etag);
  const updated = await client.PATCH("/tasks/{id}/", {
    params: { path, header: { "If-Match": freshEtag } },
    body: { completed: true },
  });
  assert.equal(updated.response.status, 200);
  const after = task(updated.data, "updated task");
  const expected = ["Write the notes", "high", true];
  assert.deepEqual([after.title, after.priority, after.completed], expected);
  assert.notEqual(after.completed_at, null);

  const synced = await client.GET("/tasks/changes/", {
    params: { query: { page_size: 500 } },
  });
  assert.equal(synced.response.status, 200);
  const feed: Schemas["TaskChanges"] | undefined = synced.data;
  assert.ok(feed && feed.tasks.some((item) => item.id === original.id));

  const latestEtag = updated.response.headers.get("ETag") ?? undefined;
  const deleted = await client.DELETE("/tasks/{id}/", {
    params: { path, header: { "If-Match": latestEtag } },
  });
  assert.equal(deleted.response.status, 204);

  const since = await client.GET("/tasks/changes/", {
    params: { query: { sync_token: feed.sync_token } },
  });
  assert.deepEqual(since.data?.deleted, [original.id]);
  const trash = await client.GET("/tasks/trash/");
  const trashed: Schemas["TrashedTask"][] = trash.data?.results ?? [];
  assert.deepEqual(trashed.map((item) => item.id), [original.id]);
  assert.ok(trashed[0].deleted_at.length > 0);
  const restored = await client.POST("/tasks/{id}/restore/", {
    params: { path, header: { "If-Match": latestEtag } },
  });
  assert.equal(task(restored.data, "restored task").id, original.id);
  const again = await client.DELETE("/tasks/{id}/", { params: { path } });
  assert.equal(again.response.status, 204);
  const erased = await client.DELETE("/tasks/trash/{id}/", { params: { path } });
  assert.equal(erased.response.status, 204);

  const gone = await client.GET("/tasks/{id}/", { params: { path } });
  const missing: Schemas["NotFoundProblem"] = problem(
    gone.error,
    gone.response,
    "/problems/not-found",
    404,
  );
  assert.ok(missing.detail.length > 0);

  // Label a task, find it by its label, delete the label: the task loses it.
  const labelCreated = await client.POST("/labels/", {
    body: { name: "Errands", color: "#3B82F6" },
  });
  assert.equal(labelCreated.response.status, 201);
  const label = hasFields(labelCreated.data, LABEL_KEYS, "label");
  assert.equal(label.color, "#3b82f6");
  const labelled = await client.POST("/tasks/", {
    body: { title: "Buy stamps", labels: [label.id] },
  });
  const stamps = task(labelled.data, "labelled task");
  assert.deepEqual(stamps.labels, [label.id]);
  const tagged = await client.GET("/tasks/", { params: { query: { label: [label.id] } } });
  const taggedPage = hasFields(tagged.data, PAGE_KEYS, "page");
  assert.deepEqual(
    taggedPage.results.map((item) => item.id),
    [stamps.id],
  );
  const dropped = await client.DELETE("/labels/{id}/", { params: { path: { id: label.id } } });
  assert.equal(dropped.response.status, 204);
  const unlabelled = await client.GET("/tasks/{id}/", { params: { path: { id: stamps.id } } });
  assert.deepEqual(task(unlabelled.data, "unlabelled task").labels, []);

  const parent = await client.POST("/tasks/", { body: { title: "Parent" } });
  const child = await client.POST("/tasks/", { body: { title: "Child" } });
  const parentId = task(parent.data, "parent task").id;
  const moved = await client.POST("/tasks/{id}/move/", {
    params: { path: { id: task(child.data, "child task").id } },
    body: { parent_id: parentId, after_id: null },
  });
  assert.equal(task(moved.data, "moved task").parent_id, parentId);

  // A mixed batch: one result per operation, in order, each told apart by its status.
  const batch: Schemas["TaskBulk"] = {
    operations: [
      { op: "create", body: { title: "From a batch" } },
      { op: "update", id: openIds[1], body: { completed: true } },
      { op: "update", id: openIds[2], if_match: '"999"', body: {} },
      { op: "delete", id: openIds[3] },
    ],
  };
  const bulk = await client.POST("/tasks/bulk/", { body: batch });
  assert.equal(bulk.response.status, 200);
  const results: Schemas["TaskBulkResult"][] = bulk.data?.results ?? [];
  assert.deepEqual(
    results.map((result) => result.status),
    [201, 200, 412, 204],
  );
  const made = results[0];
  assert.ok("etag" in made && made.body.title === "From a batch");

  await handAScriptAReadToken(baseUrl, client);
  await shareAProject(baseUrl, client, email);
  console.log("typescript client scenario: every step matched its contract type");
}

const baseUrl = process.env.BASE_URL;
assert.ok(baseUrl, "BASE_URL is not set");
await main(baseUrl);
