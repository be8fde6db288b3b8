-- POST reference + document number of existing applications (expects 302 to the status page).
package.path = debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua;" .. package.path
local common = require("common")
setup = common.setup
done = common.done
local pairs_, cookie, token = {}, nil, nil
function init(args)
  for line in io.lines(args[1]) do
    local ref, number = line:match("(%S+) (%S+)")
    table.insert(pairs_, {ref, number})
  end
  cookie, token = args[2], args[3]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  local pair = pairs_[math.random(#pairs_)]
  local body = "csrfmiddlewaretoken=" .. token .. "&reference=" .. pair[1] .. "&document_number=" .. pair[2]
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. cookie, ["Referer"] = "http://127.0.0.1/"}, body)
end
function response(status, headers, body) if status ~= 302 then errors = (errors or 0) + 1 end end
