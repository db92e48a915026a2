-- bench/contact-json.lua: wrk script for bench/contact.sh, the contact form
-- as a script or an app sends it (application/json); the answer is 201
-- {"id"}. See bench/contact-wrk.lua.

content_type = "application/json"

function form(tag)
    return '{"name":"Bench Patient ' .. tag .. '",'
        .. '"email":"patient@example.com",'
        .. '"phone":"+44 20 7946 0000",'
        .. '"message":"Stiff neck since Monday after a long drive. '
        .. 'Is there a slot on Friday afternoon? I can also come in '
        .. 'early on Saturday. Thank you!"}'
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "")
       .. "contact-wrk.lua")
