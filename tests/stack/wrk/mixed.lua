-- Mixed reads and writes as one logged-in user: 3 reads (list, filtered list, one task) for
-- every write (create). TASKAPI_TOKEN is a real access token, TASKAPI_TASK_IDS the ids to read.
local token = os.getenv("TASKAPI_TOKEN")
local ids = {}
for id in string.gmatch(os.getenv("TASKAPI_TASK_IDS") or "", "%d+") do
  ids[#ids + 1] = id
end
local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/json",
}
local n = 0

request = function()
  n = n + 1
  local kind = n % 4
  if kind == 0 then
    local body = string.format('{"title": "load %d", "priority": "high"}', n)
    return wrk.format("POST", "/tasks/", headers, body)
  elseif kind == 1 then
    return wrk.format("GET", "/tasks/?page_size=20", headers)
  elseif kind == 2 then
    return wrk.format("GET", "/tasks/?completed=false&ordering=-updated_at&page_size=10", headers)
  end
  return wrk.format("GET", "/tasks/" .. ids[(n % #ids) + 1] .. "/", headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "non_2xx_3xx": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
