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
import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

type Schemas = components["schemas"];
type Task = Schemas["Task"];
type TokenPair = Schemas["TokenPair"];

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
  console.log("typescript client scenario: every step matched its contract type");
}

const baseUrl = process.env.BASE_URL;
assert.ok(baseUrl, "BASE_URL is not set");
await main(baseUrl);
