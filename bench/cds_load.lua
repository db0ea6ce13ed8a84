-- wrk script for bench/cds_load.sh: POSTs the CDS Hooks request in
-- $CDS_BODY_FILE to the service URL given on wrk's command line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = assert(io.open(os.getenv("CDS_BODY_FILE"), "rb"))
wrk.body = file:read("*a")
file:close()
