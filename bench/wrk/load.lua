-- wrk script for bench/run.ts: POSTs bodies taken in turn from a pool file, so every request in a row
-- carries different bytes. Requests are formatted once per thread in init(), which keeps request() to
-- a table lookup: the load generator shares the machine with the server under test.
--
-- Usage: wrk ... -s bench/wrk/load.lua <url> -- <pool file> <content-encoding or -> [<requests/s per wrk thread>]
--
-- The pool file holds records `<byte length>\n<bytes>` (bench/bodies.ts). Without a rate, wrk's usual
-- closed loop: each connection sends its next request when the last is answered. With a rate, an open
-- loop: requests are due at fixed times (the thread's rate over its connections), and each latency is measured
-- from the time the request was due (or sent, if earlier), so a server that stalls is charged for the
-- requests that could not be sent meanwhile: no coordinated omission. Requests then carry X-Request-ID,
-- which the server echoes, to pair each answer with its due time. Each body's request, id included, is
-- formatted once in init(): building one per request made LuaJIT intern two new strings per request,
-- and resizing its string table stalled wrk for 20-50 ms at a time, which the open loop then charged
-- to the server as latency. An id is that of its body, so a body is not sent again while in flight.
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

-- Open loop ------------------------------------------------------------------------------------------

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } sluice_timespec;
  int clock_gettime(int clock_id, sluice_timespec *tp);
]]
local timespec = ffi.new("sluice_timespec")
local CLOCK_MONOTONIC = 1

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + tonumber(timespec.tv_nsec) / 1000
end

local interval_us, start_us
local next_slot = 0
-- Due times claimed by delay(), taken in order by the request() calls that follow on any connection.
local due, due_head, due_tail = {}, 1, 1
local sent_at = {}
latencies = {} -- global: done() reads it from each thread

local function claim_slot()
  local slot = start_us + next_slot * interval_us
  next_slot = next_slot + 1
  return slot
end

-- The open loop's X-Request-ID values, by body (each is in its body's request).
local request_ids = {}

-- wrk can take a request from request() and not send it (seen with a connection's first request), so
-- an id can be taken and never answered. Such an id is free again after this long; a real answer that
-- late is long past wrk's own timeout (2 s), which the bench reports.
local ABANDONED_AFTER_US = 10 * 1000000

-- The next body not in flight; the pool must hold more bodies than the thread has connections.
local function take_idle_body(now)
  for _ = 1, #bodies do
    local index = take_body()
    local sent = sent_at[request_ids[index]]
    if not sent or now - sent > ABANDONED_AFTER_US then
      return index
    end
  end
  error("load.lua: every body of the pool is in flight; use a pool larger than the connections")
end

local function open_loop_request()
  local now = now_us()
  start_us = start_us or now
  local slot
  if due_head < due_tail then
    slot = due[due_head]
    due[due_head] = nil
    due_head = due_head + 1
  else
    slot = claim_slot() -- a connection's first request has no delay() before it
  end
  local index = take_idle_body(now)
  sent_at[request_ids[index]] = slot < now and slot or now
  return requests[index]
end

-- wrk's timers have millisecond resolution: wait whole ms and send up to 1 ms early rather than late
-- (an early request's latency counts from when it was really sent).
local function open_loop_delay()
  local now = now_us()
  start_us = start_us or now
  local slot = claim_slot()
  due[due_tail] = slot
  due_tail = due_tail + 1
  local wait_ms = (slot - now) / 1000
  return wait_ms >= 1 and math.floor(wait_ms) or 0
end

local function open_loop_response(status, response_headers)
  local id = response_headers["X-Request-ID"] or response_headers["x-request-id"]
  local sent = id and sent_at[id]
  if sent then
    sent_at[id] = nil
    latencies[#latencies + 1] = now_us() - sent
  end
end

function init(args)
  local file_name, encoding, rate = args[1], args[2], tonumber(args[3] or "")
  if not file_name then
    error("load.lua: pass the pool file after `--`")
  end
  if encoding and encoding ~= "-" then
    headers["Content-Encoding"] = encoding
  end
  bodies = read_pool(file_name)
  next_body = ((thread_index or 0) * 7919) % #bodies + 1
  local id_prefix = rate and "t" .. (thread_index or 0) .. "-"
  for index, body in ipairs(bodies) do
    local request_headers = {}
    for name, value in pairs(headers) do
      request_headers[name] = value
    end
    if id_prefix then
      request_ids[index] = id_prefix .. index
      request_headers["X-Request-ID"] = request_ids[index]
    end
    requests[index] = wrk.format("POST", nil, request_headers, body)
  end
  if rate then
    -- wrk asks each thread's script for delay() and response() after init(), so defining them here
    -- switches the loop; the closed loop keeps wrk's cheaper path without them.
    interval_us = 1000000 / rate
    request, delay, response = open_loop_request, open_loop_delay, open_loop_response
  end
end

-- Report ---------------------------------------------------------------------------------------------

local function corrected_latency()
  local all = {}
  for _, thread in ipairs(threads) do
    for _, latency in ipairs(thread:get("latencies") or {}) do
      all[#all + 1] = latency
    end
  end
  if #all == 0 then
    return nil
  end
  table.sort(all)
  local sum = 0
  for _, latency in ipairs(all) do
    sum = sum + latency
  end
  local function percentile(p)
    return all[math.max(1, math.ceil(#all * p / 100))]
  end
  return { count = #all, mean = sum / #all, max = all[#all], p50 = percentile(50), p90 = percentile(90), p99 = percentile(99), p99_9 = percentile(99.9) }
end

function done(summary, latency, _)
  local errors = summary.errors
  local corrected = corrected_latency()
  local source = corrected or {
    count = summary.requests, mean = latency.mean, max = latency.max,
    p50 = latency:percentile(50), p90 = latency:percentile(90), p99 = latency:percentile(99), p99_9 = latency:percentile(99.9),
  }
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"open_loop":%s,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"count":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p99_9":%d}}\n',
    summary.requests, summary.duration, summary.bytes, corrected and "true" or "false",
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    source.count, source.mean, source.max, source.p50, source.p90, source.p99, source.p99_9))
end
