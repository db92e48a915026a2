-- bench/contact-wrk.lua: the part that bench/contact-urlencoded.lua and
-- bench/contact-json.lua share; wrk scripts for bench/contact.sh. Those two
-- define content_type and form(tag), then load this file.
--
--   wrk ... -s bench/contact-json.lua URL -- RUN [POSTSECS]
--
-- Every request is a valid contact form whose name holds a tag of its own,
-- "Bench Patient <RUN>/<thread>/<n>": no submission repeats another (the
-- module stores a repeat of the same fields once, for 24 hours), and
-- bench/contact-verify.pl finds each one in the stream. RUN tells the runs
-- apart, <thread> is numbered in setup(), <n> counts the thread's POSTs
-- from 1.
--
-- With POSTSECS, each thread POSTs for about that many seconds (os.time()
-- has whole seconds), then sends "GET /ping" (204, no Redis) until wrk
-- stops: when wrk ends, the requests still in flight are GETs and every
-- POST has its answer.
--
-- done() prints, for the whole run (every thread), lines that
-- bench/contact.sh reads:
--   contact: sent N             POSTs written
--   contact: answered N         answers to them (every answer but the 204s)
--   contact: status CODE N      answers by status, 204 (the GETs) apart
--   contact: thread ID sent N   the POSTs of each thread (tags 1..N)

local threads = {}
local nthreads = 0

function setup(thread)
    nthreads = nthreads + 1
    thread:set("tid", nthreads)
    table.insert(threads, thread)
end

function init(args)
    run = args[1] or "run"
    postsecs = tonumber(args[2] or "0")
    started = os.time()
    sent = 0
    gets = 0
    statuses = {}

    -- wrk calls request() once in its first thread, right after init(), to
    -- look at the request; that one is never sent, so it gets no tag
    probe = (tid == 1)

    wrk.method = "POST"
    wrk.path = "/contact"
    wrk.headers["Content-Type"] = content_type
    wrk.headers["Accept"] = "application/json"
    wrk.headers["Origin"] = "http://bench.example"
    wrk.headers["Referer"] = "http://bench.example/contact-us"
    wrk.headers["User-Agent"] = "Mozilla/5.0 (bench/contact.sh)"

    ping = wrk.format("GET", "/ping", {})
end

function request()
    if probe then
        probe = false
        return wrk.format(nil, nil, nil, form(run .. "/probe"))
    end

    if postsecs > 0 and os.time() - started >= postsecs then
        gets = gets + 1
        return ping
    end

    sent = sent + 1
    return wrk.format(nil, nil, nil, form(run .. "/" .. tid .. "/" .. sent))
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local total, answered, codes, by = 0, 0, {}, {}

    for _, thread in ipairs(threads) do
        local id = thread:get("tid")
        local n = thread:get("sent")

        total = total + n
        table.insert(by, string.format("contact: thread %d sent %d", id, n))

        for code, count in pairs(thread:get("statuses")) do
            codes[code] = (codes[code] or 0) + count
        end
    end

    for code, count in pairs(codes) do
        if code ~= 204 then
            answered = answered + count
        end
    end

    print(string.format("contact: sent %d", total))
    print(string.format("contact: answered %d", answered))

    for code, count in pairs(codes) do
        if code ~= 204 then
            print(string.format("contact: status %d %d", code, count))
        end
    end

    for _, line in ipairs(by) do
        print(line)
    end
end
