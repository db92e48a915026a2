-- bench/cluster-contact.lua: wrk script for bench/cluster.sh, the
-- urlencoded contact form of bench/contact-urlencoded.lua (and so
-- bench/contact-wrk.lua) spread over N tenants, tI.example for I = 1..N,
-- round robin, by the Host header (and Origin and Referer, which the
-- Origin check compares with the tenant's server_name).
--
--   wrk ... -s bench/cluster-contact.lua URL -- RUN 0 N
--
-- The second argument is contact-wrk.lua's POSTSECS (0: POST until wrk
-- stops). The tag of each submission says its tenant: "RUN-tI/THREAD/K"
-- is thread THREAD's K-th POST to tenant I, so that contact-verify.pl,
-- given RUN-tI and the counts below, checks tenant I's stream on its own:
-- every tag of that tenant in that stream once, and none of another.
--
-- done() prints contact-wrk.lua's lines, plus one per tenant and thread:
--   contact: tenant I thread T sent K

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "")
       .. "contact-urlencoded.lua")

local base_setup, base_init, base_done = setup, init, done
local all = {}

function setup(thread)
    base_setup(thread)
    table.insert(all, thread)
end

function init(args)
    base_init(args)
    ntenants = tonumber(args[3] or "1")
    tsent = {}
    for i = 1, ntenants do
        tsent[i] = 0
    end
    -- the threads start at different tenants
    turn = (tid - 1) * 7
end

local function to(t)
    local host = "t" .. t .. ".example"
    wrk.headers["Host"] = host
    wrk.headers["Origin"] = "http://" .. host
    wrk.headers["Referer"] = "http://" .. host .. "/contact-us"
end

function request()
    if probe then
        probe = false
        to(1)
        return wrk.format(nil, nil, nil, form(run .. "/probe"))
    end

    sent = sent + 1
    local t = turn % ntenants + 1
    turn = turn + 1
    tsent[t] = tsent[t] + 1
    to(t)
    return wrk.format(nil, nil, nil,
                      form(run .. "-t" .. t .. "/" .. tid .. "/" .. tsent[t]))
end

function done(summary, latency, requests)
    base_done(summary, latency, requests)
    for _, thread in ipairs(all) do
        local id = thread:get("tid")
        for t, n in pairs(thread:get("tsent")) do
            print(string.format("contact: tenant %d thread %d sent %d", t, id, n))
        end
    end
end
