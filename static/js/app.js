/* Kibray ERP front-end behaviour. No inline scripts (strict CSP): everything attaches
   to data-* attributes and htmx events from here. */
(function () {
  'use strict';

  function fire(name, detail) {
    document.body.dispatchEvent(new CustomEvent(name, { detail: detail || {} }));
  }

  function parse(event) {
    try { return JSON.parse(event.data || '{}'); } catch (err) { return {}; }
  }

  // The live event names the features registered, each with its extra DOM event names
  // (rendered into <body data-live-events> from app/core/features.py).
  function liveEvents() {
    try { return JSON.parse(document.body.getAttribute('data-live-events') || '{}'); } catch (err) { return {}; }
  }

  // Any server event becomes DOM events, generically: `task-updated` {id, project_id}
  // fires kibray:task-updated, kibray:task-<id> and kibray:project-<project_id> (plus the
  // names the registration adds, e.g. kibray:projects). Fragments listen with
  // hx-trigger="kibray:… from:body"; no feature edits this file to go live.
  // This page's id: sent with every htmx request, and carried back by the live events its
  // own changes cause (app/core/events.py), which it then ignores — it already shows them.
  var pageId = Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
  document.addEventListener('htmx:configRequest', function (evt) {
    if (evt.detail && evt.detail.headers) { evt.detail.headers['X-Kibray-Page'] = pageId; }
  });
  function translate(name, data, aliases) {
    if (data && data.origin === pageId) { return; }
    var kind = name.indexOf('-') > 0 ? name.slice(0, name.lastIndexOf('-')) : name;
    fire('kibray:' + name, data);
    if (data.id !== undefined && data.id !== null) { fire('kibray:' + kind + '-' + data.id, data); }
    if (data.project_id !== undefined && data.project_id !== null) { fire('kibray:project-' + data.project_id, data); }
    (aliases || []).forEach(function (alias) { fire(alias, data); });
  }

  // Live updates: the SSE extension owns the connection (and reconnects it); an
  // EventSource hears named events only through a listener per name.
  document.addEventListener('htmx:sseOpen', function (evt) {
    var source = evt.detail && evt.detail.source;
    document.body.setAttribute('data-live', 'on');
    if (!source || source.kibrayWired) { return; }
    source.kibrayWired = true;
    var events = liveEvents();
    Object.keys(events).forEach(function (name) {
      source.addEventListener(name, function (e) { translate(name, parse(e), events[name]); });
    });
    // The session behind the stream ended (logout elsewhere, role change, idle expiry).
    source.addEventListener('session-ended', function () {
      source.close();
      window.location.assign('/login');
    });
  });

  // A fragment fetched because a live event arrived is not the person's own activity:
  // say so, so it does not keep an idle session alive (see app/auth/sessions.py).
  document.addEventListener('htmx:configRequest', function (evt) {
    var trigger = evt.detail && evt.detail.triggeringEvent;
    if (trigger && typeof trigger.type === 'string' && trigger.type.indexOf('kibray:') === 0) {
      evt.detail.headers['X-Kibray-Background'] = '1';
    }
  });

  document.addEventListener('htmx:sseError', function () {
    document.body.setAttribute('data-live', 'off');
  });

  // A form that came back with errors (422), or stale (409: changed meanwhile, see
  // core/versioning.py): show its message and put the cursor in the first field to
  // fix, instead of leaving the user at the submit button.
  document.addEventListener('htmx:afterSettle', function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    if (!xhr || (xhr.status !== 422 && xhr.status !== 409)) { return; }
    var form = evt.detail.elt && evt.detail.elt.closest ? evt.detail.elt.closest('form') : null;
    form = (form && form.isConnected) ? form : document.querySelector('form [aria-invalid="true"]');
    form = form && form.tagName !== 'FORM' ? form.closest('form') : form;
    if (!form) { return; }
    var summary = form.querySelector('[role="alert"]') || form;
    var field = form.querySelector('[aria-invalid="true"]');
    summary.scrollIntoView({ block: 'start' });
    if (field) { field.focus({ preventScroll: true }); }
  });

  // Close open drop-down menus (<details>) when clicking elsewhere.
  document.addEventListener('click', function (evt) {
    document.querySelectorAll('details[open].usermenu, details[open].bell-menu').forEach(function (menu) {
      if (!menu.contains(evt.target)) { menu.removeAttribute('open'); }
    });
  });

  // [ui: error notices] A fragment request that failed answers with a small notice
  // (X-Kibray-Notice, see core/errors.py): swap it in place, as the expected answer.
  // Anything else that failed and is a whole page (a proxy's error page, an old
  // server) is never swapped into the page: say so in the flash area instead.
  document.addEventListener('htmx:beforeSwap', function (evt) {
    var detail = evt.detail || {};
    var xhr = detail.xhr;
    if (!xhr || xhr.status < 400 || xhr.status === 422 || detail.boosted) { return; }
    if (xhr.getResponseHeader('X-Kibray-Notice')) {
      detail.shouldSwap = true;
      detail.isError = false;
      return;
    }
    if (/<html[\s>]/i.test(detail.serverResponse || '')) {
      detail.shouldSwap = false;
      var flashes = document.getElementById('flashes');
      if (flashes) {
        var note = document.createElement('div');
        note.className = 'flash flash-error';
        note.setAttribute('role', 'alert');
        note.textContent = 'This part of the page could not be refreshed. Reload the page to try again.';
        flashes.appendChild(note);
      }
    }
  });

  // [live: older answers] A live region redraws inside a wrapper that stays (hx-swap
  // innerHTML, "A live refresh is queued" in docs/architecture.md), and the person's own
  // requests redraw the same wrapper (a filter, a page, a posted comment). A live refresh
  // whose answer arrives after the wrapper was redrawn by a request asked later (so
  // answered after the change the event announced) is older than what is shown — the
  // old filters, say: it is not swapped. Anything asked earlier never hides a refresh.
  var asked = 0;
  function isLiveRefresh(config) {
    var trigger = config && config.triggeringEvent;
    return !!(trigger && typeof trigger.type === 'string' && trigger.type.indexOf('kibray:') === 0);
  }
  document.addEventListener('htmx:beforeRequest', function (evt) {
    var detail = evt.detail || {};
    if (detail.xhr) { detail.xhr.kibrayAsked = ++asked; }
  });
  document.addEventListener('htmx:beforeSwap', function (evt) {
    var detail = evt.detail || {};
    var target = detail.target;
    var order = detail.xhr && detail.xhr.kibrayAsked;
    if (!detail.shouldSwap || !target || !order) { return; }
    if (isLiveRefresh(detail.requestConfig)) {
      if ((target.kibrayRedrawnBy || 0) > order) { detail.shouldSwap = false; }
    } else if ((target.kibrayRedrawnBy || 0) < order) {
      target.kibrayRedrawnBy = order;
    }
  });

  // [ui: phone menu] The menu button (base.html) opens and closes the navigation it
  // controls; Escape closes it and gives the focus back to the button.
  function setMenu(button, open) {
    if (button) { button.setAttribute('aria-expanded', open ? 'true' : 'false'); }
  }
  document.addEventListener('click', function (evt) {
    var button = evt.target.closest ? evt.target.closest('[data-nav-toggle]') : null;
    if (button) { setMenu(button, button.getAttribute('aria-expanded') !== 'true'); }
  });
  document.addEventListener('keydown', function (evt) {
    if (evt.key !== 'Escape') { return; }
    var button = document.querySelector('[data-nav-toggle][aria-expanded="true"]');
    if (!button) { return; }
    setMenu(button, false);
    button.focus();
  });

  // Keep the mobile menu from staying open after navigating — but only then: the
  // bell and live lists swap fragments at any moment and must not snap it shut.
  document.addEventListener('htmx:afterSwap', function (evt) {
    var detail = evt.detail || {};
    if (!detail.boosted && detail.target !== document.body) { return; }
    setMenu(document.querySelector('[data-nav-toggle]'), false);
  });

  // [ui: pickers] A search-as-you-type choice (macros/forms.html `picker`): the box
  // fetches suggestions (htmx); a click on one puts its id in the hidden input and its
  // name in the box, and fires `change` there (a filter form refreshes on it). Typing
  // again forgets the choice; emptying the box clears it. Arrow keys move through the
  // suggestions, Escape closes them.
  function pickerParts(el) {
    var picker = el && el.closest ? el.closest('[data-picker]') : null;
    if (!picker) { return null; }
    return {
      picker: picker,
      value: picker.querySelector('[data-picker-value]'),
      text: picker.querySelector('[data-picker-text]'),
      list: picker.querySelector('[data-picker-options]')
    };
  }
  function closePicker(parts) {
    parts.list.innerHTML = '';
    parts.text.setAttribute('aria-expanded', 'false');
  }
  function choose(parts, id, label) {
    var multi = parts.picker.getAttribute('data-picker-multi');
    if (multi) {  // a choice of several: one more checked box (macros/forms.html `multi_picker`)
      var chosen = parts.picker.parentNode.querySelector('[data-picker-chosen]');
      var box = chosen.querySelector('input[value="' + CSS.escape(id) + '"]');
      if (!box) {
        var item = document.createElement('label');
        item.className = 'inline';
        box = document.createElement('input');
        box.type = 'checkbox';
        box.name = multi;
        box.value = id;
        item.appendChild(box);
        item.appendChild(document.createTextNode(' ' + label));
        chosen.appendChild(item);
      }
      box.checked = true;
      parts.text.value = '';
      closePicker(parts);
      return;
    }
    parts.value.value = id;
    parts.text.value = label;
    closePicker(parts);
    parts.value.dispatchEvent(new Event('change', { bubbles: true }));
  }
  document.addEventListener('click', function (evt) {
    var link = evt.target.closest ? evt.target.closest('[data-pick]') : null;
    var parts = pickerParts(link);
    if (!parts) { return; }
    evt.preventDefault();
    choose(parts, link.getAttribute('data-pick'), link.getAttribute('data-label'));
    parts.text.focus();
  });
  document.addEventListener('input', function (evt) {
    if (!evt.target.matches || !evt.target.matches('[data-picker-text]')) { return; }
    var parts = pickerParts(evt.target);
    if (!parts.value) { if (evt.target.value.trim() === '') { closePicker(parts); } return; }
    if (evt.target.value.trim() === '') {
      var had = parts.value.value !== '';
      parts.value.value = '';
      closePicker(parts);
      if (had) { parts.value.dispatchEvent(new Event('change', { bubbles: true })); }
    } else {
      parts.value.value = '';  // typed again: no longer the one chosen
    }
  });
  document.addEventListener('keydown', function (evt) {
    var parts = pickerParts(evt.target);
    if (!parts) { return; }
    var links = Array.prototype.slice.call(parts.list.querySelectorAll('[data-pick]'));
    var at = links.indexOf(document.activeElement);
    if (evt.key === 'Escape') { closePicker(parts); parts.text.focus(); return; }
    if (evt.key === 'ArrowDown' && links.length) {
      evt.preventDefault(); links[Math.min(at + 1, links.length - 1)].focus();
    } else if (evt.key === 'ArrowUp' && links.length) {
      evt.preventDefault(); if (at <= 0) { parts.text.focus(); } else { links[at - 1].focus(); }
    } else if (evt.key === 'Enter' && evt.target === parts.text) {
      evt.preventDefault();  // not a form submit: choose the only suggestion, if one
      if (links.length === 1) { choose(parts, links[0].getAttribute('data-pick'), links[0].getAttribute('data-label')); }
    }
  });
  document.addEventListener('htmx:afterSwap', function (evt) {
    var parts = pickerParts(evt.detail && evt.detail.target);
    if (parts) { parts.text.setAttribute('aria-expanded', parts.list.querySelector('[data-pick]') ? 'true' : 'false'); }
  });
  // A chosen value is sent as itself: the box's text stays out of the form's request
  // (and of the URL it pushes); only an unchosen text goes, for the page to resolve.
  document.addEventListener('htmx:configRequest', function (evt) {
    var elt = evt.detail && evt.detail.elt;
    if (!elt || elt.tagName !== 'FORM') { return; }
    elt.querySelectorAll('[data-picker]').forEach(function (picker) {
      var value = picker.querySelector('[data-picker-value]');
      var text = picker.querySelector('[data-picker-text]');
      if ((value && value.value !== '') || text.value.trim() === '') { delete evt.detail.parameters[text.name]; }
    });
  });
  document.addEventListener('click', function (evt) {
    document.querySelectorAll('[data-picker]').forEach(function (picker) {
      if (!picker.contains(evt.target)) { closePicker(pickerParts(picker)); }
    });
  });

  // --- Tasks: the bulk bar sends the value of the chosen action only ------------------
  function bulkBar(form) {
    var action = form.querySelector('select[name=action]');
    if (!action) { return; }
    form.querySelectorAll('[data-bulk-for]').forEach(function (control) {
      var on = control.getAttribute('data-bulk-for') === action.value;
      control.disabled = !on;
      control.hidden = !on;
    });
  }
  document.addEventListener('change', function (evt) {
    if (evt.target && evt.target.name === 'action' && evt.target.form && evt.target.form.id === 'bulk-form') { bulkBar(evt.target.form); }
  });

  // --- Tasks: the board. SortableJS moves the card; the server decides. A refused move
  // (409 changed meanwhile, 422 a rule, 403) puts the card back and shows the reason.
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute('hx-headers') || '{}')['X-CSRFToken'] || ''; } catch (err) { return ''; }
  }
  function counts(board) {
    board.querySelectorAll('.board-column').forEach(function (column) {
      var count = column.querySelector('[data-count]');
      if (count) { count.textContent = column.querySelectorAll('[data-task-id]').length; }
    });
  }
  function dropped(board, evt) {
    var card = evt.item;
    if (evt.from === evt.to) { return; }
    var refusal = document.querySelector('[data-testid=board-refusal]');
    var url = board.getAttribute('data-move-url').replace('/0/move', '/' + card.getAttribute('data-task-id') + '/move');
    var body = new URLSearchParams({ status: evt.to.getAttribute('data-status'), version: card.getAttribute('data-version') || '' });
    board.setAttribute('data-moving', '1');
    fetch(url, {
      method: 'POST', credentials: 'same-origin', body: body,
      headers: { 'X-CSRFToken': csrfToken(), 'HX-Request': 'true', 'X-Kibray-Page': pageId }
    }).then(function (response) {
      return response.text().then(function (html) { return { response: response, html: html }; });
    }).then(function (answer) {
      var fresh = document.createElement('div');
      fresh.innerHTML = answer.html.trim();
      var replacement = fresh.firstElementChild;
      if (answer.response.ok) {
        if (replacement) { card.replaceWith(replacement); }
        if (refusal) { refusal.hidden = true; refusal.textContent = ''; }
      } else {
        var home = evt.from;
        var before = home.children[evt.oldIndex] || null;
        home.insertBefore(replacement || card, before);
        if (replacement) { card.remove(); }
        if (refusal) {
          refusal.textContent = answer.response.headers.get('X-Kibray-Refusal') || 'That move was refused.';
          refusal.hidden = false;
        }
      }
      counts(board);
      board.removeAttribute('data-moving');
    }).catch(function () {
      evt.from.insertBefore(card, evt.from.children[evt.oldIndex] || null);
      if (refusal) { refusal.textContent = 'The move could not be saved (no connection). Try again.'; refusal.hidden = false; }
      counts(board);
      board.removeAttribute('data-moving');
    });
  }
  function wireBoards(root) {
    if (!window.Sortable) { return; }
    (root || document).querySelectorAll('[data-board]').forEach(function (board) {
      if (board.kibrayWired) { return; }
      board.kibrayWired = true;
      board.querySelectorAll('.board-cards').forEach(function (list) {
        window.Sortable.create(list, {
          group: 'tasks', animation: 120, delay: 180, delayOnTouchOnly: true, forceFallback: true, fallbackTolerance: 3, draggable: '[data-task-id]',
          onStart: function () { board.setAttribute('data-dragging', ''); },
          onEnd: function (evt) { board.removeAttribute('data-dragging'); dropped(board, evt); }
        });
      });
    });
  }
  // A live redraw of the board while a card is being dragged would replace the card under
  // the pointer and lose the drop: wait; the move's own answer and the next event redraw it.
  document.addEventListener('htmx:beforeRequest', function (evt) {
    var elt = evt.detail && evt.detail.elt;
    if (elt && elt.classList && elt.classList.contains('board-live') && elt.querySelector('[data-board][data-dragging]')) {
      evt.preventDefault();
    }
  });
  document.addEventListener('DOMContentLoaded', function () {
    wireBoards(document);
    var bulk = document.getElementById('bulk-form');
    if (bulk) { bulkBar(bulk); }
  });
  document.addEventListener('htmx:afterSettle', function () {
    wireBoards(document);
    var bulk = document.getElementById('bulk-form');
    if (bulk) { bulkBar(bulk); }
  });

  // --- Comments: @mention suggestions of people who may see the task or project ------
  var mentionTimer = null;
  function mentionQuery(area) {
    var before = area.value.slice(0, area.selectionStart);
    var match = before.match(/(^|[\s(])@([A-Za-z0-9._-]{1,40})$/);
    return match ? match[2] : null;
  }
  document.addEventListener('input', function (evt) {
    var area = evt.target;
    if (!area || !area.matches || !area.matches('textarea[data-mentions]')) { return; }
    var list = area.parentElement.querySelector('[data-mention-list]');
    if (!list) { return; }
    var query = mentionQuery(area);
    clearTimeout(mentionTimer);
    if (!query) { list.hidden = true; return; }
    mentionTimer = setTimeout(function () {
      fetch(area.getAttribute('data-mentions') + '?q=' + encodeURIComponent(query), { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.text() : ''; })
        .then(function (html) { list.innerHTML = html; list.hidden = !list.querySelector('[data-mention]'); });
    }, 150);
  });
  document.addEventListener('click', function (evt) {
    var pick = evt.target && evt.target.closest ? evt.target.closest('[data-mention]') : null;
    if (!pick) { return; }
    var box = pick.closest('.mention-box');
    var area = box && box.querySelector('textarea[data-mentions]');
    if (!area) { return; }
    var end = area.selectionStart;
    var before = area.value.slice(0, end).replace(/@([A-Za-z0-9._-]{1,40})$/, '@' + pick.getAttribute('data-mention') + ' ');
    area.value = before + area.value.slice(end);
    area.focus();
    area.setSelectionRange(before.length, before.length);
    box.querySelector('[data-mention-list]').hidden = true;
  });
  // --- Photos: several files, one request each, a progress bar each (data-upload) -----
  // The form works without script (every file in one post). With it, each file goes on
  // its own: straight into S3 with a presigned POST when the server hands one out
  // (data-direct answers 200 with {url, fields, key}; 204 on local disk), else to the
  // form's own action with X-Kibray-Upload, which answers JSON per file.
  function send(url, body, bar, headers) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      Object.keys(headers || {}).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      xhr.upload.addEventListener('progress', function (evt) {
        if (evt.lengthComputable) { bar.max = evt.total; bar.value = evt.loaded; }
      });
      xhr.addEventListener('load', function () { resolve(xhr); });
      xhr.addEventListener('error', function () { resolve(null); });
      xhr.send(body);
    });
  }
  function fieldsOf(form, file) {
    var data = new FormData();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.type !== 'file' && el.type !== 'submit' && !el.disabled) { data.append(el.name, el.value); }
    });
    if (file) { data.append('file', file, file.name); }
    return data;
  }
  function direct(form, file, bar) {
    var url = form.getAttribute('data-direct');
    if (!url) { return Promise.resolve(null); }
    var token = form.querySelector('input[name=csrf_token]');
    return fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRFToken': token ? token.value : '' } })
      .then(function (r) { return r.status === 200 ? r.json() : null; })
      .then(function (post) {
        if (!post) { return null; }
        var body = new FormData();
        Object.keys(post.fields).forEach(function (name) { body.append(name, post.fields[name]); });
        body.append('file', file);
        return send(post.url, body, bar).then(function (xhr) {
          if (!xhr || xhr.status >= 300) { return { failed: 'The upload to storage failed; try again.' }; }
          var done = fieldsOf(form, null);
          done.append('key', post.key);
          return send(form.action, done, bar, { 'X-Kibray-Upload': '1' });
        });
      })
      .catch(function () { return null; });
  }
  function uploadOne(form, file, list) {
    var item = document.createElement('li');
    var name = document.createElement('span');
    var state = document.createElement('span');
    var bar = document.createElement('progress');
    name.textContent = file.name;
    state.textContent = 'Uploading…';
    bar.max = file.size || 1; bar.value = 0;
    item.setAttribute('data-testid', 'upload-item');
    item.append(name, state, bar);
    list.appendChild(item);
    return direct(form, file, bar).then(function (answer) {
      return answer || send(form.action, fieldsOf(form, file), bar, { 'X-Kibray-Upload': '1' });
    }).then(function (xhr) {
      var message = 'The upload failed; check the connection and try again.';
      var ok = false;
      if (xhr && xhr.failed) { message = xhr.failed; } else if (xhr) {
        try {
          var json = JSON.parse(xhr.responseText);
          ok = xhr.status < 300 && json.ok;
          if (!ok && json.error) { message = json.error; }
        } catch (e) { if (xhr.status === 413) { message = 'The file is too large.'; } }
      }
      bar.value = bar.max;
      state.textContent = ok ? 'Added' : message;
      state.className = ok ? 'upload-done' : 'upload-failed';
      item.setAttribute('data-state', ok ? 'done' : 'failed');
      return ok;
    });
  }
  document.addEventListener('submit', function (evt) {
    var form = evt.target;
    if (!form || !form.matches || !form.matches('form[data-upload]') || !window.FormData || !window.Promise) { return; }
    var input = form.querySelector('input[type=file]');
    var list = form.querySelector('[data-upload-list]');
    if (!input || !list || !input.files.length) { return; }
    evt.preventDefault();
    evt.stopPropagation(); // capture phase: htmx (hx-post, hx-boost) never sends the whole form too
    var files = Array.prototype.slice.call(input.files);
    var chain = Promise.resolve();
    files.forEach(function (file) { chain = chain.then(function () { return uploadOne(form, file, list); }); });
    chain.then(function () {
      input.value = '';
      // the lists showing what was added redraw (data-upload-done names their event)
      document.body.dispatchEvent(new CustomEvent(form.getAttribute('data-upload-done') || 'kibray:photos', { bubbles: true }));
    });
  }, true);
  // Choosing photos starts their upload at once (data-upload-auto: a phone's camera hands
  // back one photo, and the form's other fields are optional).
  document.addEventListener('change', function (evt) {
    var input = evt.target;
    if (!input || !input.matches || !input.matches('form[data-upload-auto] input[type=file]') || !input.files.length) { return; }
    if (input.form.requestSubmit) { input.form.requestSubmit(); }
  });

  // --- The photo viewer: a horizontal swipe (or an arrow key) shows the next photo -----
  var swipeStart = null;
  document.addEventListener('touchstart', function (evt) {
    var viewer = evt.target.closest && evt.target.closest('[data-swipe]');
    swipeStart = viewer && evt.touches.length === 1 ? { x: evt.touches[0].clientX, y: evt.touches[0].clientY, viewer: viewer } : null;
  }, { passive: true });
  document.addEventListener('touchend', function (evt) {
    if (!swipeStart || !evt.changedTouches.length) { return; }
    var dx = evt.changedTouches[0].clientX - swipeStart.x, dy = evt.changedTouches[0].clientY - swipeStart.y;
    var viewer = swipeStart.viewer;
    swipeStart = null;
    if (Math.abs(dx) < 50 || Math.abs(dx) < Math.abs(dy) * 1.5) { return; }
    var link = viewer.querySelector(dx < 0 ? '[data-swipe-next]' : '[data-swipe-prev]');
    if (link) { link.click(); }
  }, { passive: true });
  document.addEventListener('keydown', function (evt) {
    if (evt.target.closest && evt.target.closest('input, textarea, select')) { return; }
    var viewer = document.querySelector('[data-swipe]');
    if (!viewer || (evt.key !== 'ArrowLeft' && evt.key !== 'ArrowRight')) { return; }
    var link = viewer.querySelector(evt.key === 'ArrowRight' ? '[data-swipe-next]' : '[data-swipe-prev]');
    if (link) { link.click(); }
  });
})();

// --- The time clock (app/timeclock): a form with data-geolocate asks the browser for the
// position (5 s at most), fills its latitude/longitude/accuracy inputs, then submits;
// refused, failed or unavailable: it submits without a location.
(function () {
  'use strict';
  document.addEventListener('submit', function (evt) {
    var form = evt.target;
    if (!form || !form.matches || !form.matches('form[data-geolocate]') || form.dataset.located) { return; }
    if (!navigator.geolocation) { return; }
    evt.preventDefault();
    evt.stopImmediatePropagation();
    var sent = false;
    function send() {
      if (sent) { return; }
      sent = true;
      form.dataset.located = '1';
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      setTimeout(function () { delete form.dataset.located; }, 0);
    }
    function put(name, value) {
      var input = form.querySelector('input[name="' + name + '"]');
      if (input) { input.value = value; }
    }
    try {
      navigator.geolocation.getCurrentPosition(function (pos) {
        put('latitude', pos.coords.latitude.toFixed(6));
        put('longitude', pos.coords.longitude.toFixed(6));
        put('accuracy', Math.round(pos.coords.accuracy || 0));
        send();
      }, send, { enableHighAccuracy: true, timeout: 5000, maximumAge: 60000 });
    } catch (e) { send(); }
    setTimeout(send, 6000); // a browser that never answers (a permission prompt left open)
  }, true);
  // --- Drawing over a change order's photo (templates/change_orders/draw.html) --------
  // A canvas the size of the photo (its natural pixels) laid over it; pointer events draw
  // red strokes (mouse, pen, finger); Save sends the canvas as a transparent PNG layer.
  function setUpDrawing(box) {
    if (box.dataset.drawReady) { return; }
    var photo = box.querySelector('[data-draw-photo]');
    var canvas = box.querySelector('[data-draw-canvas]');
    var state = box.querySelector('[data-draw-state]');
    if (!photo || !canvas || !canvas.getContext) { return; }
    box.dataset.drawReady = '1';
    var pen = canvas.getContext('2d');
    var drawing = false, marked = false;
    function size() {
      if (!photo.naturalWidth) { return; }
      canvas.width = photo.naturalWidth; canvas.height = photo.naturalHeight;
      pen.lineWidth = Math.max(4, Math.round(photo.naturalWidth / 150));
      pen.lineCap = 'round'; pen.lineJoin = 'round'; pen.strokeStyle = '#e02424';
      box.dataset.drawSized = '1';
    }
    if (photo.complete) { size(); } else { photo.addEventListener('load', size); }
    function at(evt) {
      var rect = canvas.getBoundingClientRect();
      return { x: (evt.clientX - rect.left) * canvas.width / rect.width, y: (evt.clientY - rect.top) * canvas.height / rect.height };
    }
    canvas.addEventListener('pointerdown', function (evt) {
      drawing = true; marked = true; state.textContent = '';
      canvas.setPointerCapture(evt.pointerId);
      var p = at(evt); pen.beginPath(); pen.moveTo(p.x, p.y); pen.lineTo(p.x + 0.1, p.y + 0.1); pen.stroke();
      evt.preventDefault();
    });
    canvas.addEventListener('pointermove', function (evt) {
      if (!drawing) { return; }
      var p = at(evt); pen.lineTo(p.x, p.y); pen.stroke();
    });
    ['pointerup', 'pointercancel', 'pointerleave'].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    box.querySelector('[data-draw-clear]').addEventListener('click', function () {
      pen.clearRect(0, 0, canvas.width, canvas.height); marked = false; state.textContent = '';
    });
    box.querySelector('[data-draw-save]').addEventListener('click', function () {
      if (!marked) { state.textContent = 'Draw something first.'; return; }
      state.textContent = 'Saving…';
      canvas.toBlob(function (blob) {
        var body = new FormData();
        var token = box.querySelector('input[name=csrf_token]');
        body.append('csrf_token', token ? token.value : '');
        body.append('layer', blob, 'drawing.png');
        fetch(box.getAttribute('data-save-url'), { method: 'POST', body: body, credentials: 'same-origin' })
          .then(function (r) { return r.json().catch(function () { return { ok: false }; }); })
          .then(function (answer) {
            if (answer.ok) {
              state.textContent = 'Saved.';
              box.dataset.drawSaved = '1';
              window.location.assign(box.getAttribute('data-done-url'));
            } else { state.textContent = answer.error || 'The drawing could not be saved; try again.'; }
          })
          .catch(function () { state.textContent = 'The drawing could not be saved; check the connection.'; });
      }, 'image/png');
    });
  }
  function setUpDrawings(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll('[data-draw]'), setUpDrawing);
  }
  document.addEventListener('DOMContentLoaded', function () { setUpDrawings(document); });
  document.addEventListener('htmx:load', function (evt) { setUpDrawings(evt.target); });
})();
