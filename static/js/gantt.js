/* The Gantt's drag and drop (templates/gantt/_chart.html). Admins and PMs drag a task's
   bar to move it by whole days, or its right edge to change its due date, with the mouse
   or a finger (pointer events; the bars have touch-action: none). The drop is posted to
   the bar's move route through htmx (CSRF header from <body hx-headers>, X-Kibray-Page
   from app.js), which answers the chart redrawn — 200, or 409 (changed meanwhile) / 422
   with the reason — swapped into #gantt-chart. No inline script, no style attributes:
   the bar is moved with its SVG `transform` attribute while dragging.
   Listeners sit on the document, so charts swapped in later need no wiring. */
(function () {
  'use strict';

  var drag = null;
  var DAY = 86400000;

  function parseDay(text) {
    var p = (text || '').split('-');
    return Date.UTC(+p[0], +p[1] - 1, +p[2]);
  }
  function isoDay(ms) {
    var d = new Date(ms);
    var m = d.getUTCMonth() + 1, day = d.getUTCDate();
    return d.getUTCFullYear() + '-' + (m < 10 ? '0' : '') + m + '-' + (day < 10 ? '0' : '') + day;
  }

  document.addEventListener('pointerdown', function (evt) {
    if (evt.button !== 0 || !evt.target.closest) { return; }
    var bar = evt.target.closest('[data-gantt-bar]');
    var chart = bar && bar.closest('[data-gantt]');
    if (!bar || !chart || bar.classList.contains('is-saving')) { return; }
    evt.preventDefault();
    var rect = bar.querySelector('.gantt-bar-bg');
    drag = {
      bar: bar,
      chart: chart,
      pointer: evt.pointerId,
      x: evt.clientX,
      px: parseFloat(chart.getAttribute('data-px')) || 8,
      resize: !!evt.target.closest('[data-gantt-resize]'),
      width: parseFloat(rect.getAttribute('width')),
      days: 0
    };
    try { bar.setPointerCapture(evt.pointerId); } catch (err) { /* an old browser: document events still come */ }
    bar.classList.add('is-dragging');
  });

  function follow(evt) {
    if (!drag || evt.pointerId !== drag.pointer) { return; }
    var days = Math.round((evt.clientX - drag.x) / drag.px);
    if (drag.resize) {
      var span = Math.round(drag.width / drag.px);
      days = Math.max(days, 1 - span); // at least one day long
    }
    if (days === drag.days) { return; }
    drag.days = days;
    if (drag.resize) {
      var width = drag.width + days * drag.px;
      drag.bar.querySelectorAll('.gantt-bar-bg').forEach(function (r) { r.setAttribute('width', width); });
      var handle = drag.bar.querySelector('[data-gantt-resize]');
      if (handle) { handle.setAttribute('transform', 'translate(' + days * drag.px + ',0)'); }
    } else {
      drag.bar.setAttribute('transform', 'translate(' + days * drag.px + ',0)');
    }
  }
  document.addEventListener('pointermove', follow);

  function undo(state) {
    state.bar.removeAttribute('transform');
    state.bar.classList.remove('is-dragging');
    state.bar.querySelectorAll('.gantt-bar-bg').forEach(function (r) { r.setAttribute('width', state.width); });
    var handle = state.bar.querySelector('[data-gantt-resize]');
    if (handle) { handle.removeAttribute('transform'); }
  }

  function drop(evt) {
    if (!drag || evt.pointerId !== drag.pointer) { return; }
    follow(evt);
    var state = drag;
    drag = null;
    if (!state.days || evt.type === 'pointercancel') { undo(state); return; }
    var bar = state.bar;
    var start = parseDay(bar.getAttribute('data-start'));
    var due = parseDay(bar.getAttribute('data-due'));
    if (!state.resize) { start += state.days * DAY; }
    due += state.days * DAY;
    var live = document.querySelector('#gantt-chart [data-live-state]');
    var values = {
      start_date: isoDay(start),
      due_date: isoDay(due),
      version: bar.getAttribute('data-version') || ''
    };
    if (live) {
      live.querySelectorAll('input').forEach(function (input) { values[input.name] = input.value; });
    }
    var shift = document.querySelector('#gantt-chart [data-gantt-shift]');
    if (shift && shift.checked && !state.resize) { values.shift_dependants = '1'; }
    bar.classList.remove('is-dragging');
    bar.classList.add('is-saving');
    var url = state.chart.getAttribute('data-move-url').replace('/0/move', '/' + bar.getAttribute('data-task-id') + '/move');
    if (!window.htmx) { undo(state); return; }
    window.htmx.ajax('POST', url, { source: bar, target: '#gantt-chart', swap: 'innerHTML', values: values })
      .catch(function () { undo(state); bar.classList.remove('is-saving'); });
  }
  document.addEventListener('pointerup', drop);
  document.addEventListener('pointercancel', drop);

  // The chart scrolls sideways on a narrow screen: show the first bar, not the window's
  // empty start; a redraw at the same scale (a move, a live refresh) keeps the position.
  var kept = null;
  function scrollers(root) { return (root || document).querySelectorAll('.gantt-scroll[data-scroll-x]'); }
  function place(root) {
    scrollers(root).forEach(function (box) {
      if (box.kibrayPlaced) { return; }
      box.kibrayPlaced = true;
      var chart = box.closest('[data-gantt]');
      var px = chart ? chart.getAttribute('data-px') : '';
      if (kept && kept.px === px) { box.scrollLeft = kept.left; return; }
      if (box.scrollWidth > box.clientWidth) { box.scrollLeft = parseInt(box.getAttribute('data-scroll-x'), 10) || 0; }
    });
    kept = null;
  }
  document.addEventListener('htmx:beforeSwap', function (evt) {
    var target = evt.detail && evt.detail.target;
    var box = target && target.querySelector ? target.querySelector('.gantt-scroll') : null;
    var chart = box && box.closest('[data-gantt]');
    kept = box && chart ? { left: box.scrollLeft, px: chart.getAttribute('data-px') } : null;
  });
  document.addEventListener('htmx:afterSettle', function () { place(document); });
  document.addEventListener('DOMContentLoaded', function () { place(document); });

  // A drag is not a click: the bar's <title> tooltip aside, nothing else reacts.
  document.addEventListener('click', function (evt) {
    if (evt.target.closest && evt.target.closest('[data-gantt-bar]')) { evt.preventDefault(); }
  });
})();
