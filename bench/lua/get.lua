package.path = debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua;" .. package.path
local common = require("common")
setup = common.setup
done = common.done
function response(status, headers, body) if status ~= 200 then errors = (errors or 0) + 1 end end
