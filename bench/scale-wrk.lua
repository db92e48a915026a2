-- bench/scale.sh's load: every request a random article of a random
-- tenant, by its Host header.
--
--   wrk -s bench/scale-wrk.lua http://127.0.0.1:PORT -- N SLUG...

local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("id", threads)
end

local n, slugs = 1, {}

function init(args)
    n = tonumber(args[1])
    for i = 2, #args do
        slugs[#slugs + 1] = "/treatments/" .. args[i]
    end
    math.randomseed(os.time() * 100 + (id or 0))
end

function request()
    return wrk.format("GET", slugs[math.random(#slugs)],
                      { Host = "t" .. math.random(n) .. ".example" })
end
