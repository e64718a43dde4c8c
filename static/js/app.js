/* Kibray ERP front-end behaviour. No inline scripts (strict CSP): everything attaches
   to data-* attributes and htmx events from here. */
(function () {
  'use strict';

  var PROJECT_EVENTS = ['project-created', 'project-updated', 'project-deleted'];

  function fire(name, detail) {
    document.body.dispatchEvent(new CustomEvent(name, { detail: detail || {} }));
  }

  function parse(event) {
    try { return JSON.parse(event.data || '{}'); } catch (err) { return {}; }
  }

  // Live updates: the SSE extension owns the connection (and reconnects it);
  // we translate server events into DOM events that fragments listen for
  // with hx-trigger="kibray:projects from:body".
  document.addEventListener('htmx:sseOpen', function (evt) {
    var source = evt.detail && evt.detail.source;
    document.body.setAttribute('data-live', 'on');
    if (!source || source.kibrayWired) { return; }
    source.kibrayWired = true;
    PROJECT_EVENTS.forEach(function (name) {
      source.addEventListener(name, function (e) {
        var data = parse(e);
        fire('kibray:projects', data);
        if (data.id) { fire('kibray:project-' + data.id, data); }
      });
    });
    source.addEventListener('notification', function (e) { fire('kibray:notification', parse(e)); });
    source.addEventListener('session-ended', function () {
      source.close();
      window.location.assign('/login');
    });
  });

  document.addEventListener('htmx:sseError', function () {
    document.body.setAttribute('data-live', 'off');
  });

  // Close open drop-down menus (<details>) when clicking elsewhere.
  document.addEventListener('click', function (evt) {
    document.querySelectorAll('details[open].usermenu, details[open].bell-menu').forEach(function (menu) {
      if (!menu.contains(evt.target)) { menu.removeAttribute('open'); }
    });
  });

  // Keep the mobile menu from staying open after navigating.
  document.addEventListener('htmx:afterSwap', function () {
    var toggle = document.getElementById('nav-toggle');
    if (toggle) { toggle.checked = false; }
  });
})();
