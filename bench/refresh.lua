-- refresh.lua -- POST /v1/auth/refresh, each refresh token sent exactly once.
--
-- wrk -s refresh.lua URL -- TOKENS_FILE NTHREADS
-- TOKENS_FILE holds pre-minted refresh tokens, one a line; thread i takes
-- lines i, i+n, i+2n ... Tokens rotate: every 200 answer's refresh_token
-- goes back into the thread's queue and is sent once by the next request
-- of any of its connections, so no token is ever replayed (which would
-- revoke its session). A thread needs at least as many tokens as it has
-- connections; when its queue runs dry (failed refreshes lose tokens) it
-- sends a dummy and counts it as `starved`.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local q, head, tail = {}, 1, 0
local hdrs = { ["Content-Type"] = "application/json" }

function init(args)
	local f = assert(io.open(args[1], "r"))
	local n = tonumber(args[2])
	local i = 0
	for line in f:lines() do
		if i % n == tid and #line > 0 then
			tail = tail + 1
			q[tail] = line
		end
		i = i + 1
	end
	f:close()
	starved = 0
end

function request()
	local tok = "starved-no-token-left"
	if head <= tail then
		tok = q[head]
		q[head] = nil
		head = head + 1
	else
		starved = starved + 1
	end
	return wrk.format("POST", "/v1/auth/refresh", hdrs,
	    '{"refresh_token":"' .. tok .. '"}')
end

function response(status, headers, body)
	bench.count(status, 200)
	if status == 200 then
		local t = body:match('"refresh_token"%s*:%s*"([^"]+)"')
		if t then
			tail = tail + 1
			q[tail] = t
		end
	end
end
