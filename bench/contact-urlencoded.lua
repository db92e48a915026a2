-- bench/contact-urlencoded.lua: wrk script for bench/contact.sh, the contact
-- form as a plain HTML form posts it (application/x-www-form-urlencoded),
-- with "Accept: application/json" so that the answer is 201 {"id"} rather
-- than a 303. See bench/contact-wrk.lua.

content_type = "application/x-www-form-urlencoded"

function form(tag)
    return "name=Bench+Patient+" .. tag
        .. "&email=patient%40example.com"
        .. "&phone=%2B44+20+7946+0000"
        .. "&message=Stiff+neck+since+Monday+after+a+long+drive.+"
        .. "Is+there+a+slot+on+Friday+afternoon%3F+I+can+also+come+in+"
        .. "early+on+Saturday.+Thank+you%21"
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "")
       .. "contact-wrk.lua")
