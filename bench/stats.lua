-- stats.lua -- plain requests (wrk -H for headers), summary line only: no
-- response() here, so wrk spends nothing on the answers.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")
