-- wrk script of bench/run.py: POSTs signed webhook deliveries or pixel event batches, each
-- request with event ids no other request of the run carries, and counts the answers.
--
--   wrk -t1 -c64 -d5s -s bench/wrk/post.lua URL -- MODE PREFIX DATA_FILE [EVENTS_PER_POST]
--
-- MODE is "webhooks" or "pixel"; PREFIX makes the ids unique across runs; DATA_FILE is a
-- Lua file written by bench/run.py (the pool of pre-signed webhook bodies, or the pixel
-- body's pieces). The HMAC covers the body only, so a delivery's X-Shopify-Event-Id (the
-- dedup key) comes from a counter and the pool of signed bodies is reused.
-- done() prints one line: BENCH_JSON {...} with the counts and latency percentiles (us).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local mode, prefix, data, per_post
local sent = 0
statuses = {}
accepted = 0

function init(args)
   mode, prefix, data = args[1], args[2], dofile(args[3])
   per_post = tonumber(args[4] or "1")
end

local function webhook()
   local d = data.pool[(sent % #data.pool) + 1]
   local id = prefix .. sent
   return wrk.format("POST", data.path, {
      ["Content-Type"] = "application/json",
      ["X-Shopify-Topic"] = data.topic,
      ["X-Shopify-Hmac-Sha256"] = d[2],
      ["X-Shopify-Shop-Domain"] = d[3],
      ["X-Shopify-Event-Id"] = id,
      ["X-Shopify-Webhook-Id"] = id,
      ["X-Shopify-API-Version"] = data.api_version,
      ["X-Shopify-Triggered-At"] = data.triggered_at,
   }, d[1])
end

local function pixel()
   local events = {}
   for k = 1, per_post do
      local seq = sent * per_post + k
      events[k] = data.event_head .. prefix .. seq .. data.event_mid .. seq .. data.event_tail
   end
   local body = data.head .. table.concat(events, ",") .. "]}"
   return wrk.format("POST", data.path, {["Content-Type"] = "application/json"}, body)
end

function request()
   sent = sent + 1
   if mode == "webhooks" then
      return webhook()
   end
   return pixel()
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if mode == "pixel" and status == 202 then
      local n = body:match('"accepted":(%d+)')
      if n then accepted = accepted + tonumber(n) end
   end
end

function done(summary, latency, requests)
   local merged, total_accepted = {}, 0
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
         merged[status] = (merged[status] or 0) + n
      end
      total_accepted = total_accepted + thread:get("accepted")
   end
   local parts = {}
   for status, n in pairs(merged) do
      table.insert(parts, string.format('"%d":%d', status, n))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"accepted":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"statuses":{%s}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      total_accepted, e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ",")))
end
