-- Counts every answer that is not 2xx. wrk itself counts only 4xx and 5xx, so a page that redirects to
-- sign-in (303) would pass as a success; benchmarks/load.py adds this count to the errors.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_2xx = 0
end

function response(status, headers, body)
  if status < 200 or status >= 300 then
    not_2xx = not_2xx + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_2xx")
  end
  io.write(string.format("Answers other than 2xx: %d\n", total))
end
