// The browser journeys of t/050-browser.t: a patient who writes to the
// clinic (with and without JavaScript), the staff who read the lead in the
// inbox, a wrong token, the 503 page, and screenshots at 1280 and 390 px.
//
// Run by t/050-browser.t, which starts redis-server and nginx and passes
// everything through CLINIC_BROWSER_* variables. Each check is printed as
// one line "@@ {json}" on stdout ({type: ok|skip|note|done}); the .t file
// makes a test of each. Anything else on stdout or stderr is a log.
//
// A journey whose page is not built yet is skipped: the contact location
// answers 405 to GET, or the admin prefix answers the JSON API's 401/404.
// Any other answer runs the journey, so a broken page fails it.
//
// See docs/testing.md, "Browser suite".

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const env = process.env;
const BASE = env.CLINIC_BROWSER_BASE;                 // http://clinic.localhost:PORT
const DOWN_BASE = env.CLINIC_BROWSER_DOWN_BASE;       // its Redis is down
const PORT = Number(env.CLINIC_BROWSER_PORT);
const REDIS_PORT = Number(env.CLINIC_BROWSER_REDIS);
const STREAM = env.CLINIC_BROWSER_STREAM;
const TOKEN = env.CLINIC_BROWSER_TOKEN;
const CLINIC = env.CLINIC_BROWSER_CLINIC || '';
const PHONE = env.CLINIC_BROWSER_PHONE || '';         // '' when not configured
const OUT = env.CLINIC_BROWSER_OUT;
const PROFILE = env.CLINIC_BROWSER_PROFILE;
const CHROMIUM = env.CLINIC_BROWSER_CHROMIUM || '/usr/bin/chromium';
const SLOW = Number(env.CLINIC_BROWSER_SLOW || 1);
const ONLY = (env.CLINIC_BROWSER_ONLY || '').split(/[\s,]+/).filter(Boolean);

for (const [k, v] of Object.entries({BASE, DOWN_BASE, PORT, REDIS_PORT,
                                     STREAM, TOKEN, OUT, PROFILE})) {
    if (!v) {
        console.error(`journeys.mjs: CLINIC_BROWSER_${k} is not set ` +
                      '(run it through t/050-browser.t)');
        process.exit(2);
    }
}

const STEP = 10000 * SLOW;        // one navigation, one wait for an element
const TOTAL = 120000 * SLOW;      // the whole run
const HOST = new URL(BASE).host;

// ------------------------------------------------------------------ output

function emit(obj) {
    process.stdout.write('@@ ' + JSON.stringify(obj) + '\n');
}

class Skipped extends Error {}
class Stop extends Error {}

class Journey {
    constructor(no, title) {
        this.no = no;
        this.title = `journey ${no}: ${title}`;
        this.failed = 0;
    }
    ok(cond, desc, diag) {
        emit({type: 'ok', ok: !!cond, name: `${this.title}: ${desc}`,
              diag: cond ? undefined : diag});
        if (!cond) this.failed++;
        return !!cond;
    }
    is(got, want, desc, diag) {
        return this.ok(got === want, desc,
                       `got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`
                       + (diag ? `\n${diag}` : ''));
    }
    // a check the rest of the journey depends on
    need(cond, desc, diag) {
        if (!this.ok(cond, desc, diag)) throw new Stop(desc);
    }
    skip(reason) {
        this.skipped = true;
        emit({type: 'skip', name: this.title, reason});
        throw new Skipped(reason);
    }
    note(msg) {
        emit({type: 'note', msg: `${this.title}: ${msg}`});
    }
}

// ------------------------------------------------------------------ Redis

function respEncode(args) {
    let s = `*${args.length}\r\n`;
    for (const a of args) {
        const b = Buffer.from(String(a));
        s += `$${b.length}\r\n${b.toString()}\r\n`;
    }
    return s;
}

// parses one RESP2 reply at buf[i..]: {value, next}, or null if incomplete
function respParse(buf, i) {
    const eol = buf.indexOf('\r\n', i);
    if (eol < 0) return null;
    const t = String.fromCharCode(buf[i]);
    const line = buf.toString('utf8', i + 1, eol);
    const next = eol + 2;
    if (t === '+') return {value: line, next};
    if (t === '-') return {value: new Error(line), next};
    if (t === ':') return {value: Number(line), next};
    if (t === '$') {
        const n = Number(line);
        if (n < 0) return {value: null, next};
        if (buf.length < next + n + 2) return null;
        return {value: buf.toString('utf8', next, next + n), next: next + n + 2};
    }
    if (t === '*') {
        const n = Number(line);
        if (n < 0) return {value: null, next};
        const arr = [];
        let at = next;
        for (let k = 0; k < n; k++) {
            const r = respParse(buf, at);
            if (!r) return null;
            arr.push(r.value);
            at = r.next;
        }
        return {value: arr, next: at};
    }
    throw new Error(`bad RESP reply: ${line}`);
}

function redis(...args) {
    return new Promise((resolve, reject) => {
        const s = net.connect(REDIS_PORT, '127.0.0.1');
        let buf = Buffer.alloc(0);
        s.setTimeout(5000 * SLOW, () => {
            s.destroy();
            reject(new Error(`redis ${args[0]}: timeout`));
        });
        s.on('error', reject);
        s.on('data', (d) => {
            buf = Buffer.concat([buf, d]);
            const r = respParse(buf, 0);
            if (r) {
                s.end();
                if (r.value instanceof Error) reject(r.value);
                else resolve(r.value);
            }
        });
        s.write(respEncode(args));
    });
}

// the stream's entries as {id, fields}
async function xrange(start = '-', end = '+') {
    const r = await redis('XRANGE', STREAM, start, end);
    return r.map(([id, kv]) => {
        const fields = {};
        for (let k = 0; k < kv.length; k += 2) fields[kv[k]] = kv[k + 1];
        return {id, fields};
    });
}

const xlen = () => redis('XLEN', STREAM);

// ------------------------------------------------------------------ HTTP

// a JSON client's submission (section 5), to give the inbox leads of its
// own; resolves {status, body}
function postJson(obj) {
    return new Promise((resolve, reject) => {
        const body = JSON.stringify(obj);
        const req = http.request({
            host: '127.0.0.1', port: PORT, path: '/contact', method: 'POST',
            headers: {Host: HOST, 'Content-Type': 'application/json',
                      'Content-Length': Buffer.byteLength(body)},
            timeout: STEP,
        }, (res) => {
            let data = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { data += d; });
            res.on('end', () => resolve({status: res.statusCode, body: data}));
        });
        req.on('timeout', () => req.destroy(new Error('POST /contact: timeout')));
        req.on('error', reject);
        req.end(body);
    });
}

async function seedLead(j, lead) {
    const r = await postJson(lead);
    let id;
    try { id = JSON.parse(r.body).id; } catch { /* checked below */ }
    j.need(r.status === 201 && id, `a JSON client's lead is stored (${lead.name})`,
           `POST /contact answered ${r.status}: ${r.body}`);
    return id;
}

// ------------------------------------------------------------------ the page

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const marker = (tag) => `${tag}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function exists(page, sel) {
    return (await page.$(sel)) !== null;
}

async function visible(page, sel) {
    return page.$eval(sel, (el) => {
        const r = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'
               && s.display !== 'none';
    }).catch(() => false);
}

const attr = (page, sel, name) =>
    page.$eval(sel, (el, n) => el.getAttribute(n), name).catch(() => null);
const value = (page, sel) => page.$eval(sel, (el) => el.value).catch(() => null);
const text = (page, sel) =>
    page.$eval(sel, (el) => el.textContent.replace(/\s+/g, ' ').trim())
        .catch(() => null);

// replaces a field's value the way a person does: select all, type
async function fill(page, sel, v) {
    await page.$eval(sel, (el) => { el.focus(); el.select(); });
    await page.keyboard.press('Backspace');
    if (v !== '') await page.type(sel, v);
}

// no sideways scrolling on a phone: the page is no wider than the screen
// (not innerWidth, which a mobile viewport widens to fit the page)
async function fitsWidth(page) {
    const w = page.viewport().width;
    const got = await page.evaluate(() => Math.max(
        document.documentElement.scrollWidth, document.body.scrollWidth));
    return {fits: got <= w, diag: `the page is ${got} px wide, the screen ${w} px`};
}

async function checkWidth(j, page, desc) {
    const r = await fitsWidth(page);
    j.ok(r.fits, desc, r.diag);
}

async function shot(page, name) {
    const file = path.join(OUT, `${name}.png`);
    await page.screenshot({path: file, fullPage: true});
    return file;
}

const VIEWPORTS = {
    1280: {width: 1280, height: 800, deviceScaleFactor: 1},
    390: {width: 390, height: 844, deviceScaleFactor: 1, isMobile: true,
          hasTouch: true},
};

// ------------------------------------------------------------------ probes

// what the browser is answered; "absent" is only the answer the module
// gives before the feature exists
async function probe(browser) {
    const page = await browser.newPage();
    const out = {};
    try {
        let r = await page.goto(`${BASE}/contact`);
        const allow = r.headers().allow || '';
        out.contact = {status: r.status(), allow};
        if (r.status() === 405) {
            out.contactAbsent = `GET /contact answers 405 (Allow: ${allow}): ` +
                'the contact form is not a page yet (SPEC section 9)';
        }
        r = await page.goto(`${BASE}/admin/`);
        const ct = r.headers()['content-type'] || '';
        out.admin = {status: r.status(), type: ct};
        if ((r.status() === 401 || r.status() === 404)
            && /^application\/json/i.test(ct))
        {
            out.inboxAbsent = `GET /admin/ answers ${r.status()} ${ct}: ` +
                'the inbox page is not built yet (SPEC section 9)';
        }
    } finally {
        await page.close();
    }
    return out;
}

// ------------------------------------------------------------------ journeys

const FIELDS = ['name', 'email', 'phone', 'message'];

async function patientJourney(j, ctx, js) {
    if (ctx.probe.contactAbsent) j.skip(ctx.probe.contactAbsent);
    const page = await ctx.newPage(js ? 390 : 1280);
    await page.setJavaScriptEnabled(js);
    const width = js ? 390 : 1280;
    const tag = marker(js ? 'j1' : 'j2');

    // the article, and its "Contact us"
    const art = await page.goto(`${BASE}/treatments/lower-back-pain`);
    j.need(art.status() === 200, 'the article page answers 200',
           `status ${art.status()}`);
    j.ok((await page.title()).includes(CLINIC),
         'the article page carries the clinic name (clinic_name)',
         `title: ${await page.title()}`);
    if (js) await shot(page, `article-${width}`);
    j.need(await visible(page, 'a#contact-link'),
           'the article has a visible a#contact-link');
    const href = await attr(page, 'a#contact-link', 'href');
    await Promise.all([page.waitForNavigation(), page.click('a#contact-link')]);
    j.is(new URL(page.url()).href, new URL(href, `${BASE}/`).href,
         'following "Contact us" opens the contact page');

    // the form
    j.need(await exists(page, 'form#contact-form'), 'the page has form#contact-form');
    j.is((await attr(page, 'form#contact-form', 'method') || '').toLowerCase(),
         'post', 'the form posts');
    for (const f of FIELDS) {
        const sel = `#contact-form #field-${f}`;
        j.ok(await exists(page, sel) && await attr(page, sel, 'name') === f,
             `field ${f}: #field-${f} named "${f}"`);
        const label = await text(page, `label[for="field-${f}"]`);
        j.ok(label, `field ${f}: has a label`, `label: ${label}`);
    }
    j.is(await attr(page, '#field-email', 'type'), 'email',
         'the email field is type=email');
    j.is(await attr(page, '#field-phone', 'type'), 'tel',
         'the phone field is type=tel');
    j.is(await attr(page, '#contact-submit', 'type'), 'submit',
         'the form has button#contact-submit');
    if (width === 390) await checkWidth(j, page, 'no sideways scrolling at 390 px');

    // a bad submission: an address the browser takes but the module does
    // not (one label), and a message of spaces (empty once trimmed); both
    // pass the browser's own checks, so the page gets them with or
    // without novalidate
    const before = await xlen();
    await fill(page, '#field-name', 'Ann Lee');
    await fill(page, '#field-email', 'ann@example');
    await fill(page, '#field-phone', '+44 7700 900123');
    await fill(page, '#field-message', '   ');
    await page.click('#contact-submit');
    await page.waitForSelector('#error-summary', {visible: true}).catch(() => null);
    j.need(await visible(page, '#error-summary'),
           'a bad submission shows #error-summary', `page: ${page.url()}`);
    j.is(await attr(page, '#error-summary', 'role'), 'alert',
         '#error-summary has role=alert');
    for (const f of ['email', 'message']) {
        j.ok(await visible(page, `p#error-${f}.field-error`),
             `the ${f} error shows (p#error-${f}.field-error)`,
             `text: ${await text(page, `#error-${f}`)}`);
        j.is(await page.$eval(`#field-${f}`,
                              (el) => el.nextElementSibling?.id ?? null)
                 .catch(() => null),
             `error-${f}`, `#error-${f} is right after #field-${f}`);
        j.is(await attr(page, `#field-${f}`, 'aria-invalid'), 'true',
             `#field-${f} is aria-invalid=true`);
    }
    for (const f of ['name', 'phone']) {
        j.ok(!(await exists(page, `#error-${f}`))
             && await attr(page, `#field-${f}`, 'aria-invalid') !== 'true',
             `the valid ${f} field has no error`);
    }
    j.is(await value(page, '#field-name'), 'Ann Lee', 'the name is kept');
    j.is(await value(page, '#field-email'), 'ann@example', 'the email is kept');
    j.is(await value(page, '#field-phone'), '+44 7700 900123', 'the phone is kept');
    j.is(await xlen(), before, 'the bad submission stored nothing');
    if (width === 390) await checkWidth(j, page, 'no sideways scrolling at 390 px with errors');

    // corrected
    const message = `Stiff lower back since Monday, worse in the morning. [${tag}]`;
    await fill(page, '#field-email', 'ann.lee@example.com');
    await fill(page, '#field-message', message);
    await page.click('#contact-submit');
    await page.waitForSelector('#thank-you', {visible: true}).catch(() => null);
    j.need(await visible(page, '#thank-you'),
           'the corrected submission lands on the thank-you page (#thank-you)',
           `page: ${page.url()}; errors: ${await text(page, '#error-summary')}`);

    const entries = (await xrange()).filter((e) => e.fields.message === message);
    j.is(entries.length, 1, `the submission is in ${STREAM} once`);
    if (entries.length) {
        const f = entries[0].fields;
        j.is(f.name, 'Ann Lee', 'stored name');
        j.is(f.email, 'ann.lee@example.com', 'stored email');
        j.is(f.phone, '+44 7700 900123', 'stored phone');
    }
    j.is(await xlen(), before + 1, 'one submission stored in all');
}

async function inboxJourney(j, ctx) {
    if (ctx.probe.inboxAbsent) j.skip(ctx.probe.inboxAbsent);
    const tag = marker('j3');
    const lead = {name: 'Bea Inbox', email: 'bea@example.com',
                  message: `Sore shoulder after tennis. [${tag}]`};
    const gone = {name: 'Cal Erase', email: 'cal@example.com',
                  message: `Please erase me. [${tag}]`};
    const goneId = await seedLead(j, gone);
    const id = await seedLead(j, lead);

    const page = await ctx.newPage(1280);
    const errors = [];
    const foreign = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
        if (m.type() === 'error' && /Content.Security.Policy|Refused/i.test(m.text()))
            errors.push(m.text());
    });
    page.on('request', (r) => {
        const u = new URL(r.url());
        if (/^https?:$/.test(u.protocol) && u.host !== HOST) foreign.push(r.url());
    });
    page.on('dialog', (d) => d.accept());

    const res = await page.goto(`${BASE}/admin/`);
    j.is(res.status(), 200, 'GET /admin/ answers 200');
    j.ok(res.headers()['content-security-policy'],
         'the inbox page sends a Content-Security-Policy');
    j.need(await visible(page, 'form#signin'), 'the sign-in form shows');
    j.is(await attr(page, '#token', 'type'), 'password', '#token is type=password');
    j.ok(!(await visible(page, '#inbox')), 'no list before signing in');

    const signIn = async () => {
        await page.type('#token', TOKEN);
        await page.click('#signin [type="submit"]');
        await page.waitForSelector(`#inbox li.lead[data-id="${id}"]`).catch(() => null);
    };
    await signIn();
    const item = `#inbox li.lead[data-id="${id}"]`;
    j.need(await exists(page, item), 'signed in, the new lead is in #inbox',
           `signin error: ${await text(page, '#signin-error')}`);
    j.is(await attr(page, '#inbox li.lead', 'data-id'), id, 'newest first');
    const cls = (sel) => page.$eval(sel, (el) => [...el.classList]).catch(() => []);
    j.ok((await cls(item)).includes('unread') && !(await cls(item)).includes('handled'),
         'the new lead is unread', `class: ${await cls(item)}`);
    const count = async () => {
        const t = await text(page, '#unread-count');
        const m = /\d+/.exec(t || '');
        return m ? Number(m[0]) : null;
    };
    const unread = await count();
    j.is(unread, await page.$$eval('#inbox li.lead.unread', (l) => l.length),
         '#unread-count is the number of unread leads');

    // open it
    await page.click(`${item} .open`);
    await page.waitForFunction((t) => document.querySelector('section#lead')
                                   ?.textContent.includes(t), {timeout: STEP}, tag)
        .catch(() => null);
    const shown = await text(page, 'section#lead');
    j.need(shown && shown.includes(lead.message) && shown.includes(lead.email),
           'opened, section#lead shows its message and email', `shows: ${shown}`);

    // mark it handled
    await page.click('#mark-handled');
    await page.waitForSelector(`${item}.handled`, {timeout: STEP}).catch(() => null);
    j.ok((await cls(item)).includes('handled') && !(await cls(item)).includes('unread'),
         'marked handled, the item becomes .handled', `class: ${await cls(item)}`);
    await page.waitForFunction((n) => {
        const m = /\d+/.exec(document.querySelector('#unread-count')?.textContent || '');
        return m && Number(m[0]) === n;
    }, {timeout: STEP}, unread - 1).catch(() => null);
    j.is(await count(), unread - 1, 'the unread count drops by one');

    // export CSV: a download, into build/browser/downloads
    const before = new Set(fs.readdirSync(ctx.downloads));
    await page.click('#export-csv');
    let csvFile = null;
    for (const end = Date.now() + STEP; Date.now() < end && !csvFile; await sleep(100)) {
        csvFile = fs.readdirSync(ctx.downloads)
            .find((f) => !before.has(f) && !f.endsWith('.crdownload')) || null;
    }
    j.ok(csvFile, '#export-csv downloads a file', `nothing in ${ctx.downloads}`);
    if (csvFile) {
        const csv = fs.readFileSync(path.join(ctx.downloads, csvFile), 'utf8');
        j.ok(/\.csv$/i.test(csvFile), 'the download is a .csv', csvFile);
        j.ok(/email/i.test(csv.split(/\r?\n/)[0]), 'the CSV has a header line',
             csv.slice(0, 200));
        j.ok(csv.includes(id) && csv.includes(lead.email) && csv.includes(tag),
             'the CSV holds the lead (id, email, message)', csv.slice(0, 500));
        fs.copyFileSync(path.join(ctx.downloads, csvFile),
                        path.join(OUT, 'inbox-export.csv'));
    }

    // erase the other one
    const goneItem = `#inbox li.lead[data-id="${goneId}"]`;
    j.need(await exists(page, goneItem), 'the second lead is listed too');
    await page.click(`${goneItem} .open`);
    await page.waitForFunction((t) => document.querySelector('section#lead')
                                   ?.textContent.includes(t), {timeout: STEP},
                               gone.email).catch(() => null);
    j.ok((await text(page, 'section#lead') || '').includes(gone.email),
         'the second lead opens');
    await page.click('#erase');
    await page.waitForSelector(goneItem, {hidden: true, timeout: STEP}).catch(() => null);
    j.ok(!(await exists(page, goneItem)), 'erased, it leaves the list');
    j.is((await xrange(goneId, goneId)).length, 0, 'erased, it leaves the stream');

    // sign out, and in again: the state was kept
    await page.click('#signout');
    await page.waitForSelector('form#signin', {visible: true}).catch(() => null);
    j.ok(await visible(page, 'form#signin') && !(await visible(page, '#inbox')),
         'signed out, the sign-in form shows and the list does not');
    await page.$eval('#token', (el) => { el.value = ''; });
    await signIn();
    j.ok((await cls(item)).includes('handled'), 'signed in again, the lead is still handled');
    j.is(await count(), unread - 2, 'and the unread count does not count the two');

    j.is(errors.length, 0, 'no script error or CSP violation', errors.join('\n'));
    j.is(foreign.length, 0, 'no request to another site', foreign.join('\n'));
}

async function wrongTokenJourney(j, ctx) {
    if (ctx.probe.inboxAbsent) j.skip(ctx.probe.inboxAbsent);
    const page = await ctx.newPage(1280);
    await page.goto(`${BASE}/admin/`);
    j.need(await visible(page, 'form#signin'), 'the sign-in form shows');
    await page.type('#token', 'not-the-token-0123456789abcdef');
    await page.click('#signin [type="submit"]');
    await page.waitForSelector('#signin-error', {visible: true}).catch(() => null);
    j.ok(await visible(page, 'p#signin-error'), 'a wrong token shows p#signin-error');
    j.is(await attr(page, '#signin-error', 'role'), 'alert', '#signin-error has role=alert');
    j.ok(!(await exists(page, '#inbox li.lead')) && !(await visible(page, '#inbox')),
         'and no list');
    j.ok(await visible(page, '#token'), 'the token can be typed again');
}

async function contactShots(j, ctx) {
    if (ctx.probe.contactAbsent) j.skip(ctx.probe.contactAbsent);
    for (const w of [1280, 390]) {
        const page = await ctx.newPage(w);
        const r = await page.goto(`${BASE}/contact`);
        j.need(r.status() === 200 && await exists(page, 'form#contact-form'),
               `${w} px: the contact page shows its form`, `status ${r.status()}`);
        j.ok(fs.statSync(await shot(page, `contact-empty-${w}`)).size > 0,
             `${w} px: contact-empty-${w}.png`);
        await fill(page, '#field-name', 'Ann Lee');
        await fill(page, '#field-email', 'ann@example');
        await fill(page, '#field-message', '   ');
        await page.click('#contact-submit');
        await page.waitForSelector('#error-summary', {visible: true}).catch(() => null);
        j.need(await visible(page, '#error-summary'), `${w} px: the errors show`);
        j.ok(fs.statSync(await shot(page, `contact-errors-${w}`)).size > 0,
             `${w} px: contact-errors-${w}.png`);
        if (w === 390) await checkWidth(j, page, '390 px: no sideways scrolling with errors');
        await fill(page, '#field-email', 'ann.lee@example.com');
        await fill(page, '#field-message', `Screenshot at ${w} px. [${marker('j5')}]`);
        await page.click('#contact-submit');
        await page.waitForSelector('#thank-you', {visible: true}).catch(() => null);
        j.need(await visible(page, '#thank-you'), `${w} px: the thank-you page shows`);
        j.ok(fs.statSync(await shot(page, `contact-thanks-${w}`)).size > 0,
             `${w} px: contact-thanks-${w}.png`);
        if (w === 390) await checkWidth(j, page, '390 px: no sideways scrolling on the thank-you page');
        await page.close();
    }
}

async function inboxShots(j, ctx) {
    if (ctx.probe.inboxAbsent) j.skip(ctx.probe.inboxAbsent);
    await seedLead(j, {name: 'Dee Screenshot', email: 'dee@example.com',
                       message: `A lead for the screenshots. [${marker('j5')}]`});
    for (const w of [1280, 390]) {
        const page = await ctx.newPage(w);
        await page.goto(`${BASE}/admin/`);
        await page.waitForSelector('#token', {visible: true}).catch(() => null);
        j.need(await visible(page, '#token'), `${w} px: the sign-in form shows`);
        j.ok(fs.statSync(await shot(page, `inbox-signin-${w}`)).size > 0,
             `${w} px: inbox-signin-${w}.png`);
        await page.type('#token', TOKEN);
        await page.click('#signin [type="submit"]');
        await page.waitForSelector('#inbox li.lead', {visible: true}).catch(() => null);
        j.need(await visible(page, '#inbox li.lead'), `${w} px: the list shows`);
        j.ok(fs.statSync(await shot(page, `inbox-${w}`)).size > 0, `${w} px: inbox-${w}.png`);
        if (w === 390) await checkWidth(j, page, '390 px: no sideways scrolling in the inbox');
        await page.click('#inbox li.lead .open');
        await page.waitForSelector('section#lead', {visible: true}).catch(() => null);
        j.need(await visible(page, 'section#lead'), `${w} px: a lead opens`);
        j.ok(fs.statSync(await shot(page, `inbox-lead-${w}`)).size > 0,
             `${w} px: inbox-lead-${w}.png`);
        if (w === 390) await checkWidth(j, page, '390 px: no sideways scrolling with a lead open');
        await page.close();
    }
}

async function callUsJourney(j, ctx) {
    if (ctx.probe.contactAbsent) j.skip(ctx.probe.contactAbsent);
    if (!PHONE) {
        j.skip('nginx -t does not take clinic_phone: the 503 page has no ' +
               'phone number to give');
    }
    const page = await ctx.newPage(390);
    const r = await page.goto(`${DOWN_BASE}/contact`);
    j.need(r.status() === 200 && await exists(page, 'form#contact-form'),
           'with Redis down, the contact page still shows its form',
           `status ${r.status()}`);
    await fill(page, '#field-name', 'Ann Lee');
    await fill(page, '#field-email', 'ann.lee@example.com');
    await fill(page, '#field-message', 'Can I book for Friday?');
    const answer = page.waitForResponse(
        (res) => res.request().method() === 'POST', {timeout: STEP}).catch(() => null);
    await page.click('#contact-submit');
    const res = await answer;
    j.is(res && res.status(), 503, 'the submission is answered 503');
    await page.waitForSelector('#call-us', {visible: true}).catch(() => null);
    j.need(await visible(page, '#call-us'), 'the 503 page shows #call-us');
    const digits = (s) => (s || '').replace(/[^\d+]/g, '');
    const said = await text(page, '#call-us');
    const tel = await page.$$eval('#call-us a[href^="tel:"]',
                                  (l) => l.map((a) => a.getAttribute('href')));
    j.ok(digits(said).includes(digits(PHONE))
         || tel.some((h) => digits(h).includes(digits(PHONE))),
         `#call-us gives the clinic's phone (${PHONE})`, `says: ${said}`);
    await shot(page, 'contact-503-390');
}

const JOURNEYS = [
    [1, 'patient writes to the clinic (JavaScript on, 390 px)',
     (j, c) => patientJourney(j, c, true)],
    [2, 'patient writes to the clinic (JavaScript off, 1280 px)',
     (j, c) => patientJourney(j, c, false)],
    [3, 'staff sign in, open, mark handled, export, erase, sign out', inboxJourney],
    [4, 'a wrong token is refused', wrongTokenJourney],
    ['5a', 'contact page screenshots at 1280 and 390 px', contactShots],
    ['5b', 'inbox screenshots at 1280 and 390 px', inboxShots],
    [6, 'Redis down: the 503 page gives the phone number', callUsJourney],
];

// ------------------------------------------------------------------ main

async function main() {
    fs.mkdirSync(OUT, {recursive: true});
    const failures = path.join(OUT, 'failures');
    const downloads = path.join(OUT, 'downloads');
    for (const f of fs.readdirSync(OUT)) {
        if (/\.(png|csv)$/.test(f)) fs.rmSync(path.join(OUT, f));
    }
    fs.rmSync(failures, {recursive: true, force: true});
    fs.rmSync(downloads, {recursive: true, force: true});
    fs.mkdirSync(downloads, {recursive: true});

    const browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        pipe: true,                 // Chromium exits when node does
        userDataDir: PROFILE,
        timeout: 30000 * SLOW,
        protocolTimeout: 30000 * SLOW,
        args: [
            '--no-sandbox',         // root, in CI
            '--disable-dev-shm-usage',
            '--no-first-run',
            '--disable-gpu',
            '--lang=en-GB',
            '--host-resolver-rules=MAP *.localhost 127.0.0.1',
        ],
    });
    const watchdog = setTimeout(() => {
        emit({type: 'ok', ok: false, name: `the journeys end within ${TOTAL / 1000} s`});
        browser.process()?.kill('SIGKILL');
        process.exit(3);
    }, TOTAL);
    emit({type: 'note', msg: `browser: ${await browser.version()}`});

    try {
        const probeCtx = await browser.createBrowserContext();
        const pr = await probe(probeCtx);
        await probeCtx.close();
        emit({type: 'note', msg: `probe: GET /contact ${pr.contact.status}, ` +
              `GET /admin/ ${pr.admin.status} ${pr.admin.type}`});

        for (const [no, title, fn] of JOURNEYS) {
            const j = new Journey(no, title);
            if (ONLY.length && !ONLY.includes(String(no))) {
                emit({type: 'skip', name: j.title, reason: 'not in CLINIC_BROWSER_ONLY'});
                continue;
            }
            // each journey in a context of its own: no cookie carries over
            const context = await browser.createBrowserContext({
                downloadBehavior: {policy: 'allow', downloadPath: downloads},
            });
            const pages = [];
            const ctx = {
                probe: pr, downloads,
                async newPage(w) {
                    const p = await context.newPage();
                    p.setDefaultTimeout(STEP);
                    p.setDefaultNavigationTimeout(STEP);
                    await p.setViewport(VIEWPORTS[w]);
                    pages.push(p);
                    return p;
                },
            };
            const t0 = Date.now();
            try {
                await fn(j, ctx);
            } catch (e) {
                if (!(e instanceof Skipped)) {
                    if (!(e instanceof Stop)) {
                        j.ok(false, 'ran without an error', e.stack || String(e));
                    }
                    fs.mkdirSync(failures, {recursive: true});
                    const p = pages.filter((x) => !x.isClosed()).pop();
                    if (p) {
                        const base = path.join(failures, `journey-${no}`);
                        await p.screenshot({path: `${base}.png`, fullPage: true})
                            .catch(() => {});
                        fs.writeFileSync(`${base}.html`,
                                         await p.content().catch(() => ''));
                        j.note(`failed at ${p.url()}: see ${base}.png and .html`);
                    }
                }
            } finally {
                await context.close().catch(() => {});
            }
            if (!j.skipped) j.note(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
        }
    } finally {
        clearTimeout(watchdog);
        await browser.close().catch(() => browser.process()?.kill('SIGKILL'));
    }
    emit({type: 'done'});
}

main().catch((e) => {
    emit({type: 'ok', ok: false, name: 'the journeys run', diag: e.stack || String(e)});
    process.exit(1);
});
