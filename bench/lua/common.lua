-- Shared by the bench scripts: figures printed as one JSON line (BENCH {...}) for bench/load.py.
local threads = {}
local M = {}
function M.setup(thread) table.insert(threads, thread) end
function M.count(status)
  if status >= 400 or status == 0 then errors = (errors or 0) + 1 end
end
function M.done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  for _, t in ipairs(threads) do errors = errors + (t:get("errors") or 0) end
  local seconds = summary.duration / 1e6
  io.write(string.format('BENCH {"per_s": %.1f, "p95_ms": %.1f, "p50_ms": %.1f, "requests": %d, "errors": %d}\n',
    summary.requests / seconds, latency:percentile(95) / 1000, latency:percentile(50) / 1000, summary.requests, errors))
end
return M
