-- login.lua -- POST /v1/auth/login as pre-created users, round robin.
--
-- wrk -s login.lua URL -- EMAIL_PREFIX NUSERS PASSWORD
-- Users are EMAIL_PREFIX<i>@bench.example for i in 0 .. NUSERS-1.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local prefix, nusers, password, k
local hdrs = { ["Content-Type"] = "application/json" }

function init(args)
	prefix, nusers, password = args[1], tonumber(args[2]), args[3]
	k = tid
end

function request()
	local body = string.format('{"login":"%s%d@bench.example",' ..
	    '"password":"%s"}', prefix, k % nusers, password)
	k = k + 1
	return wrk.format("POST", "/v1/auth/login", hdrs, body)
end

function response(status, headers, body)
	bench.count(status, 200)
end
