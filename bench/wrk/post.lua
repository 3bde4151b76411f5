-- wrk script: POST application/json bodies taken in turn from a pool file (one body per line), so every
-- request in a row carries different bytes. The requests are formatted once per thread in init(), which
-- keeps request() to a table lookup: the load generator shares the machine with the server under test.
--
-- Usage: wrk ... -s bench/wrk/post.lua <url> -- <bodies file>
--        (or set BENCH_BODIES=<bodies file> in the environment)
--
-- At the end it prints one line `BENCH_RESULT {json}` with exact figures (latencies in microseconds)
-- for bench/run.ts, besides wrk's usual text report.

local threads = {}
local thread_count = 0

-- Runs in the main Lua state, once per thread: number them so each starts at a different body.
function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local requests = {}
local next_request = 1

local function read_bodies(file_name)
  local file = io.open(file_name, "r")
  if not file then
    error("post.lua: cannot open bodies file " .. tostring(file_name))
  end
  local bodies = {}
  for line in file:lines() do
    if #line > 0 then
      bodies[#bodies + 1] = line
    end
  end
  file:close()
  if #bodies == 0 then
    error("post.lua: no bodies in " .. file_name)
  end
  return bodies
end

function init(args)
  local file_name = args[1] or os.getenv("BENCH_BODIES")
  if not file_name then
    error("post.lua: pass the bodies file after `--` or in BENCH_BODIES")
  end
  local headers = { ["Content-Type"] = "application/json" }
  for _, body in ipairs(read_bodies(file_name)) do
    requests[#requests + 1] = wrk.format("POST", nil, headers, body)
  end
  next_request = ((thread_index or 0) * 7919) % #requests + 1
end

function request()
  local formatted = requests[next_request]
  next_request = next_request % #requests + 1
  return formatted
end

function done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p99_9":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
