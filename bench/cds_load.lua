-- wrk script for bench/cds_load.sh: POSTs the CDS Hooks request in
-- $CDS_BODY_FILE to the service URL given on wrk's command line. With
-- $CDS_TOKENS_FILE (one JWT per line), each request carries the next unused
-- token (threads take every n-th line, so no jti is sent twice).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = assert(io.open(os.getenv("CDS_BODY_FILE"), "rb"))
wrk.body = file:read("*a")
file:close()

local thread_count = 0
function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
end

local tokens = nil
local next_token = 1

function init(args)
  local path = os.getenv("CDS_TOKENS_FILE")
  if path == nil or path == "" then return end
  tokens = {}
  local threads = tonumber(os.getenv("CDS_WRK_THREADS") or "1")
  local line_number = 0
  for line in io.lines(path) do
    if line_number % threads == thread_id then tokens[#tokens + 1] = line end
    line_number = line_number + 1
  end
end

if os.getenv("CDS_TOKENS_FILE") ~= nil and os.getenv("CDS_TOKENS_FILE") ~= "" then
  function request()
    local token = tokens[next_token] or tokens[#tokens]  -- past the end: a replay, refused with 401
    next_token = next_token + 1
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    headers["Authorization"] = "Bearer " .. token
    return wrk.format(nil, nil, headers)
  end
end
