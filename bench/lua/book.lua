-- Book a visit: POST a slot to a request's private visit page, each request its own token (each wrk thread takes
-- every n-th line, so no two threads book for one request). 302 = booked; 200 = refused (slot full: the page
-- offers other times), counted apart; anything else is an error.
package.path = debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua;" .. package.path
local common = require("common")
done = common.done
local counter = 0
function setup(thread)
  common.setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end
local tokens, slots, cookie, token, next_index, step = {}, {}, nil, nil, 1, 2
function init(args)
  for line in io.lines(args[1]) do table.insert(tokens, line) end
  for line in io.lines(args[2]) do table.insert(slots, line) end
  cookie, token, step = args[3], args[4], tonumber(args[5])
  next_index = thread_id or 1
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  local visit = tokens[next_index] or tokens[math.random(#tokens)]
  next_index = next_index + step
  local slot = slots[math.random(#slots)]
  local body = "csrfmiddlewaretoken=" .. token .. "&action=book&slot=" .. slot:gsub("+", "%%2B")
  return wrk.format("POST", "/zh-hans/visits/" .. visit .. "/", {["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. cookie, ["Referer"] = "http://127.0.0.1/"}, body)
end
function response(status, headers, body)
  if status == 302 then booked = (booked or 0) + 1
  elseif status == 200 then refused = (refused or 0) + 1
  else errors = (errors or 0) + 1 end
end
