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
  function translate(name, data, aliases) {
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
})();
