-- register.lua -- POST /v1/auth/register, a new email every request.
--
-- wrk -s register.lua URL -- TAG PASSWORD
-- Emails are TAG-t<thread>-<n>@bench.example: give each wrk run its own TAG
-- (a second run with the same one gets 409 email_taken).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local tag, password
local n = 0
local hdrs = { ["Content-Type"] = "application/json" }

function init(args)
	tag, password = args[1], args[2]
end

function request()
	local body = string.format('{"email":"%s-t%d-%d@bench.example",' ..
	    '"password":"%s"}', tag, tid, n, password)
	n = n + 1
	return wrk.format("POST", "/v1/auth/register", hdrs, body)
end

function response(status, headers, body)
	bench.count(status, 201)
end
