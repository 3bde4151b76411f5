-- wrk script for bench/run.ts: POSTs bodies taken in turn from a pool file, so every request in a row
-- carries different bytes. Requests are formatted once per thread in init(), which keeps request() to
-- a table lookup: the load generator shares the machine with the server under test.
--
-- Usage: wrk ... -s bench/wrk/load.lua <url> -- <pool file> <content-encoding or ->
--
-- The pool file holds records `<byte length>\n<bytes>` (bench/bodies.ts). wrk's closed loop: each
-- connection sends its next request when the last is answered. (Open loops at a fixed rate are
-- bench/openloop's: wrk's Lua callbacks per request cost as much CPU as the server's HTTP thread.)
--
-- At the end it prints one line `BENCH_RESULT {json}` with exact figures (latencies in microseconds).

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

local function read_pool(file_name)
  local file = io.open(file_name, "rb")
  if not file then
    error("load.lua: cannot open pool file " .. tostring(file_name))
  end
  local data = file:read("*a")
  file:close()
  local bodies, position = {}, 1
  while position <= #data do
    local newline = data:find("\n", position, true)
    local length = newline and tonumber(data:sub(position, newline - 1))
    if not length then
      error("load.lua: " .. file_name .. " is not a pool file (record at byte " .. position .. ")")
    end
    bodies[#bodies + 1] = data:sub(newline + 1, newline + length)
    position = newline + length + 1
  end
  if #bodies == 0 then
    error("load.lua: no bodies in " .. file_name)
  end
  return bodies
end

local bodies = {}
local headers = { ["Content-Type"] = "application/json" }
local requests = {}
local next_body = 1

local function take_body()
  local index = next_body
  next_body = next_body % #bodies + 1
  return index
end

function request()
  return requests[take_body()]
end

function init(args)
  local file_name, encoding = args[1], args[2]
  if not file_name then
    error("load.lua: pass the pool file after `--`")
  end
  if encoding and encoding ~= "-" then
    headers["Content-Encoding"] = encoding
  end
  bodies = read_pool(file_name)
  next_body = ((thread_index or 0) * 7919) % #bodies + 1
  for index, body in ipairs(bodies) do
    requests[index] = wrk.format("POST", nil, headers, body)
  end
end

function done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"open_loop":false,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"count":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p99_9":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    summary.requests, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
