-- POST the application form with a 200 KB PDF; a new valid resident ID and form key each time (expects 302).
package.path = debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua;" .. package.path
local common = require("common")
setup = common.setup
done = common.done
local pdf, cookie, token
local weights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
local checks = "10X98765432"
local boundary = "----benchboundary7MA4YWxkTrZu0gW"
function init(args)
  local f = assert(io.open(args[1], "rb")); pdf = f:read("*a"); f:close()
  cookie, token = args[2], args[3]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
local function resident_id()
  local year, month, day = math.random(1975, 1995), math.random(1, 12), math.random(1, 28)
  local serial = math.random(0, 999)
  local first = string.format("650102%04d%02d%02d%03d", year, month, day, serial)
  local total = 0
  for i = 1, 17 do total = total + tonumber(first:sub(i, i)) * weights[i] end
  local k = total % 11 + 1
  return first .. checks:sub(k, k), string.format("%04d-%02d-%02d", year, month, day), serial % 2 == 1 and "M" or "F"
end
local function hex(n) local t = {} for i = 1, n do t[i] = string.format("%x", math.random(0, 15)) end return table.concat(t) end
local function field(name, value)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name .. "\"\r\n\r\n" .. value .. "\r\n"
end
function request()
  local number, birth, gender = resident_id()
  local parts = {
    field("csrfmiddlewaretoken", token), field("submission_key", hex(32)), field("website", ""),
    field("name", "王伟"), field("document_type", "resident_id"), field("document_number", number),
    field("birth_date", birth), field("gender", gender), field("nationality", "中国"), field("office", "650100"),
    field("email", "c" .. hex(8) .. "@example.com"), field("phone", "13800138000"), field("qualification", "bachelor"),
    field("school", "新疆大学"), field("major", "会计学"), field("graduation_date", "2009-07-01"),
    field("work_start_date", "2010-08-01"), field("claimed_insured_months", "150"),
    field("ce_professional_credits", "60"), field("ce_public_credits", "30"),
    field("subjects", "subject_practice"), field("subjects", "subject_management"), field("subjects", "subject_law"),
    "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"insurance_pdf\"; filename=\"shebao.pdf\"\r\n" ..
      "Content-Type: application/pdf\r\n\r\n" .. pdf .. "\r\n",
    "--" .. boundary .. "--\r\n",
  }
  return wrk.format("POST", nil, {["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
    ["Cookie"] = "csrftoken=" .. cookie, ["Referer"] = "http://127.0.0.1/"}, table.concat(parts))
end
function response(status, headers, body) if status ~= 302 then errors = (errors or 0) + 1 end end
