/* The clinic's inbox: the admin API of this location, with the token of
 * the tab (sessionStorage).  Data goes into the page as text only. */
(function () {
  'use strict';

  var KEY = 'clinic-inbox-token';
  var PAGE = 50;
  var current = null;
  var next = null;

  function $(id) { return document.getElementById(id); }

  function token() { return sessionStorage.getItem(KEY) || ''; }

  function say(text) { $('status').textContent = text || ''; }

  function request(method, path) {
    return fetch(path, {
      method: method,
      headers: { 'Authorization': 'Bearer ' + token() },
      cache: 'no-store',
      credentials: 'omit'
    }).then(function (res) {
      if (res.status === 401) {
        signout('That token was not accepted.');
        throw new Error('refused');
      }
      return res;
    });
  }

  function json(res) {
    if (res.ok) {
      return res.json();
    }
    return res.json().catch(function () { return {}; }).then(function (b) {
      throw new Error(b.error && b.error.message
                      ? b.error.message : 'HTTP ' + res.status);
    });
  }

  function fail(err) {
    if (err.message !== 'refused') {
      say(err.message);
    }
  }

  function showSignin(message) {
    var old = $('signin-error'), p;
    $('app').hidden = true;
    $('session').hidden = true;
    $('signin').hidden = false;
    if (old) {
      old.remove();
    }
    if (message) {
      p = document.createElement('p');
      p.id = 'signin-error';
      p.setAttribute('role', 'alert');
      p.textContent = message;
      $('signin').appendChild(p);
    }
    $('token').value = '';
    $('token').focus();
  }

  function signout(message) {
    sessionStorage.removeItem(KEY);
    current = null;
    next = null;
    $('inbox').textContent = '';
    $('lead').hidden = true;
    say('');
    showSignin(message);
  }

  function label(s) {
    var f = s.fields || {};
    return f.name || f.email || f.phone || s.id;
  }

  function item(s) {
    var li = document.createElement('li'),
        b = document.createElement('button'),
        who = document.createElement('span'),
        when = document.createElement('time'),
        what = document.createElement('span');

    li.className = 'lead ' + (s.handled ? 'handled' : 'unread');
    li.setAttribute('data-id', s.id);
    b.type = 'button';
    b.className = 'open';
    who.className = 'who';
    who.textContent = label(s);
    when.className = 'when';
    when.textContent = s.received || '';
    what.className = 'what';
    what.textContent = ((s.fields && s.fields.message) || '').slice(0, 100);
    b.appendChild(who);
    b.appendChild(when);
    b.appendChild(what);
    b.addEventListener('click', function () { open(s.id); });
    li.appendChild(b);
    return li;
  }

  function highlight() {
    var items = $('inbox').children, i, id;
    for (i = 0; i < items.length; i++) {
      id = items[i].getAttribute('data-id');
      items[i].setAttribute('aria-current',
                            current && current.id === id ? 'true' : 'false');
    }
  }

  function load(older) {
    var url = 'submissions?order=desc&limit=' + PAGE;
    if (older && next) {
      url += '&before=' + encodeURIComponent(next);
    }
    return request('GET', url).then(json).then(function (page) {
      var list = $('inbox');
      if (!older) {
        list.textContent = '';
      }
      page.submissions.forEach(function (s) { list.appendChild(item(s)); });
      next = page.next;
      $('more').hidden = !next;
      $('empty').hidden = list.children.length > 0;
      $('unread-count').textContent = String(page.unread);
      highlight();
    });
  }

  function render(s) {
    var dl = $('lead-fields');
    $('lead-title').textContent = label(s);
    $('lead-meta').textContent = (s.handled ? 'Handled' : 'Unread')
        + ' \u00b7 received ' + (s.received || 'at an unknown time')
        + ' \u00b7 ' + s.id;
    dl.textContent = '';
    Object.keys(s.fields || {}).forEach(function (k) {
      var dt = document.createElement('dt'), dd = document.createElement('dd');
      dt.textContent = k;
      dd.textContent = s.fields[k];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    $('lead').setAttribute('data-id', s.id);
    $('mark-handled').disabled = !!s.handled;
    $('mark-unread').disabled = !s.handled;
    $('lead').hidden = false;
  }

  function open(id) {
    say('');
    request('GET', 'submissions/' + encodeURIComponent(id)).then(json)
      .then(function (s) {
        current = s;
        render(s);
        highlight();
      }).catch(fail);
  }

  function mark(handled) {
    var s = current;
    if (!s) {
      return;
    }
    request(handled ? 'POST' : 'DELETE',
            'submissions/' + encodeURIComponent(s.id) + '/handled')
      .then(function (res) {
        if (res.status !== 204) {
          return json(res);
        }
      }).then(function () {
        s.handled = handled;
        if (current === s) {
          render(s);
        }
        return load(false);
      }).catch(fail);
  }

  function erase() {
    var s = current;
    if (!s || !window.confirm('Erase this submission for good? '
                              + 'This cannot be undone.')) {
      return;
    }
    request('DELETE', 'submissions/' + encodeURIComponent(s.id))
      .then(function (res) {
        if (res.status !== 204 && res.status !== 404) {
          return json(res);
        }
      }).then(function () {
        current = null;
        $('lead').hidden = true;
        say('The submission was erased.');
        return load(false);
      }).catch(fail);
  }

  function exportCsv(ev) {
    ev.preventDefault();
    say('Preparing the export\u2026');
    request('GET', 'submissions.csv').then(function (res) {
      if (!res.ok) {
        throw new Error('The export failed (HTTP ' + res.status + ').');
      }
      return res.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob), a = document.createElement('a');
      a.href = url;
      a.download = 'submissions.csv';
      a.hidden = true;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      say('');
    }).catch(fail);
  }

  function start() {
    return load(false).then(function () {
      var e = $('signin-error');
      if (e) {
        e.remove();
      }
      $('signin').hidden = true;
      $('app').hidden = false;
      $('session').hidden = false;
      $('token').value = '';
    }).catch(fail);
  }

  $('signin').addEventListener('submit', function (ev) {
    var t = $('token').value.trim();
    ev.preventDefault();
    if (t) {
      sessionStorage.setItem(KEY, t);
      start();
    }
  });
  $('signout').addEventListener('click', function () { signout(); });
  $('refresh').addEventListener('click', function () {
    load(false).catch(fail);
  });
  $('more').addEventListener('click', function () {
    load(true).catch(fail);
  });
  $('mark-handled').addEventListener('click', function () { mark(true); });
  $('mark-unread').addEventListener('click', function () { mark(false); });
  $('erase').addEventListener('click', erase);
  $('export-csv').addEventListener('click', exportCsv);

  setInterval(function () {
    if (token() && !document.hidden) {
      load(false).catch(fail);
    }
  }, 60000);

  if (token()) {
    start();
  } else {
    showSignin();
  }
}());
