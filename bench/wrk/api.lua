-- wrk script for every benchmark scenario.
--
--   wrk -t T -c C -d D -s bench/wrk/api.lua URL -- DATA_FILE SCENARIO T
--
-- DATA_FILE (written by bench/run.py) returns { users = { {token=, ids={...}, path=}, ... } }:
-- real access tokens minted by the project's own token code, the ids of each user's tasks and,
-- for the scenarios that follow a URL the app gave out, that user's URL: page 51 (deep), a changes
-- feed page from a sync token in the middle of the user's log (changes) or from the latest one
-- (changes-empty), the trash's first page (trash); or, for every token user, the list of its
-- tasks that carry its own filtered label (labelled); or, for the members of the shared
-- projects, their list's first page (shared). For token-retrieve the token is the user's
-- personal access token (tasks:read), not its JWT. Each thread takes its own slice of the
-- users (wrk 4.1 has no per-connection hook), and every request picks the next user of the
-- slice, so one thread's connections carry many users' tokens.
--
-- No response() callback: wrk parses nothing it does not need, and counts status >= 400 (and
-- socket errors, timeouts) as errors on its own. done() prints one JSON line for bench/run.py.

local counter = 0
local threads = {}

function setup(thread)
   counter = counter + 1
   thread:set("thread_id", counter)
   table.insert(threads, thread)
end

local users, scenario, n, next_user = nil, nil, 0, 0
local task_bodies = {
   '{"title":"Benchmark task","description":"Created by wrk","priority":"high","due_date":"2027-03-01"}',
   '{"title":"Another benchmark task","priority":"low"}',
}

function init(args)
   local data = dofile(args[1])
   scenario = args[2]
   local nthreads = tonumber(args[3])
   users = {}
   for i, user in ipairs(data.users) do
      if (i - 1) % nthreads == thread_id - 1 then
         table.insert(users, user)
      end
   end
   if #users == 0 then
      users = data.users
   end
   n = #users
   next_user = thread_id % n
   math.randomseed(thread_id * 7919)
end

local function headers(user, body)
   local h = { ["Authorization"] = "Bearer " .. user.token }
   if body then
      h["Content-Type"] = "application/json"
   end
   return h
end

local function random_task(user)
   return user.ids[math.random(#user.ids)]
end

-- The user's own URL, walked by bench/run.py: a cursor or a sync token, opaque to wrk.
local function user_path(user)
   return wrk.format("GET", user.path, headers(user))
end

local builders = {
   deep = user_path,
   changes = user_path,
   ["changes-empty"] = user_path,
   trash = user_path,
   labelled = user_path,
   shared = user_path,
   list = function(user)
      return wrk.format("GET", "/tasks/?page_size=20", headers(user))
   end,
   filtered = function(user)
      return wrk.format("GET", "/tasks/?completed=false&ordering=-due_date", headers(user))
   end,
   retrieve = function(user)
      return wrk.format("GET", "/tasks/" .. random_task(user) .. "/", headers(user))
   end,
   create = function(user)
      local body = task_bodies[math.random(#task_bodies)]
      return wrk.format("POST", "/tasks/", headers(user, true), body)
   end,
   patch = function(user)
      local completed = math.random(2) == 1 and "true" or "false"
      local body = '{"completed":' .. completed .. ',"title":"Patched by wrk"}'
      return wrk.format("PATCH", "/tasks/" .. random_task(user) .. "/", headers(user, true), body)
   end,
}

-- The same request as retrieve: its data file gives each user's personal access token.
builders["token-retrieve"] = builders.retrieve

function request()
   next_user = next_user % n + 1
   return builders[scenario](users[next_user])
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
         .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
         .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean
   ))
end
