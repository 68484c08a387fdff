-- wrk script of bench/live.py's writers: PATCHes that rename the todos listed in TODO_IDS
-- ("1,2,3"), in turn, with TOKEN (if set) as the bearer token, each to a new title: a change (and one event) every time, whatever
-- the todo's state. Consecutive requests name different todos, so the connections never
-- wait for each other's row locks.
local ids = {}
for id in string.gmatch(os.getenv("TODO_IDS") or "", "%d+") do
  ids[#ids + 1] = id
end
local run = os.getenv("RUN") or "0"
local headers = {["Content-Type"] = "application/json"}
if (os.getenv("TOKEN") or "") ~= "" then
  headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end
local n = 0

function request()
  n = n + 1
  local id = ids[(n % #ids) + 1]
  local body = '{"title":"bench ' .. run .. '.' .. n .. '"}'
  return wrk.format("PATCH", "/api/todos/" .. id, headers, body)
end

local told = false
function response(status, _, body)
  if status >= 300 and not told then
    told = true
    io.stderr:write("first failed answer: " .. status .. " " .. body .. "\n")
  end
end
