-- common.lua -- shared by bench/*.lua (loaded with dofile): thread ids, a
-- count of answers by status, and one machine-readable summary line that
-- bench/run parses.
--
-- Each wrk thread runs its own Lua state; setup() and done() run in the
-- main one. A script that defines response() gets every answer's status
-- counted in the thread's `counts` table (bench.count).

bench = {}
local threads = {}
local nthreads = 0

function setup(thread)
	thread:set("tid", nthreads)
	nthreads = nthreads + 1
	table.insert(threads, thread)
end

-- Count one answer; `ok` is the status the script expects.
function bench.count(status, ok)
	counts = counts or {}
	counts[status] = (counts[status] or 0) + 1
	if status ~= ok then
		bad = (bad or 0) + 1
	end
end

function done(summary, latency, requests)
	local tot, bad_all, starved = {}, 0, 0
	local keys = {}
	for _, t in ipairs(threads) do
		local c = t:get("counts")
		if c then
			for k, v in pairs(c) do
				if tot[k] == nil then
					table.insert(keys, k)
				end
				tot[k] = (tot[k] or 0) + v
			end
		end
		bad_all = bad_all + (t:get("bad") or 0)
		starved = starved + (t:get("starved") or 0)
	end
	table.sort(keys)
	local st = {}
	for _, k in ipairs(keys) do
		table.insert(st, k .. ":" .. tot[k])
	end
	local e = summary.errors
	io.write(string.format("BENCH requests=%d duration_us=%d " ..
	    "p50_us=%d p99_us=%d max_us=%d non2xx=%d connect=%d read=%d " ..
	    "write=%d timeout=%d unexpected=%d starved=%d statuses=%s\n",
	    summary.requests, summary.duration, latency:percentile(50),
	    latency:percentile(99), latency.max, e.status, e.connect, e.read,
	    e.write, e.timeout, bad_all, starved,
	    #st > 0 and table.concat(st, ",") or "-"))
end
