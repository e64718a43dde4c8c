/* Kibray ERP — the calendar's direct manipulation (app/calendar/moves.py answers it):
   drag a block to another day or time, resize it by its bottom handle, select several
   for a bulk action. No library: one pointer-events path serves mouse, pen and touch
   (docs/architecture.md, "The calendar"). Strict CSP: no inline script or style
   attribute; positions are set through the CSSOM.

   What the server renders (templates/calendar/, app/calendar/views.py):
   - the calendar root: [data-move-url] (POST target), inside the swapped region
     [data-calendar-region] (its content is the fragment the move answers), whose
     [data-live-state] inputs say which view, day and filters are shown;
   - blocks: .cal-item with data-kind ("event"|"task"), data-id, data-version,
     data-start, data-end (company-local: "YYYY-MM-DD" for all-day items and tasks, the
     end being the last day; "YYYY-MM-DDTHH:MM…" for timed events), data-all-day,
     data-occurrence (a series' occurrence), data-movable ("true" for those the viewer
     may move) and optionally data-title;
   - drop targets: day cells [data-date] (month, crew; the all-day row of week/day),
     hour slots [data-datetime] (week, day) with data-slot-minutes (default 60); a crew
     row (or cell) carries data-person, the person whose bookings it shows.

   A drop posts kind, id, version, occurrence, start, end (the same local formats) and,
   for a crew drop on another person's row, person and from_person; the answer (the
   re-rendered calendar, with the result in the flash area out of band; 409 when the
   block changed meanwhile, drawn where it is now) is swapped into the region by htmx. */
(function () {
  'use strict';

  var LONG_PRESS = 300; // ms a finger rests on a block before it lifts (else the page scrolls)
  var MOUSE_SLOP = 4; // px a mouse moves before a press becomes a drag (a click opens the block)
  var TOUCH_SLOP = 10; // px a finger may wander during the long press
  var SNAP = 15; // minutes
  var MIN = 60000;
  var DAY = 86400000;
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  var WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

  // --- wall-clock arithmetic: company-local times as UTC milliseconds (no DST in between) --
  function parseWall(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(text || '');
    if (!m) { return null; }
    return { t: Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0)), dateOnly: m[4] === undefined };
  }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function isoDate(t) {
    var d = new Date(t);
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate());
  }
  function isoWall(t) {
    var d = new Date(t);
    return isoDate(t) + 'T' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
  }
  function dayOf(t) { return Math.floor(t / DAY) * DAY; }
  function shortDay(t) {
    var d = new Date(t);
    return WEEKDAYS[d.getUTCDay()] + ' ' + MONTHS[d.getUTCMonth()] + ' ' + d.getUTCDate();
  }
  function clock(t) {
    var d = new Date(t), h = d.getUTCHours();
    return ((h + 11) % 12 + 1) + ':' + pad(d.getUTCMinutes()) + (h < 12 ? ' AM' : ' PM');
  }
  function describe(item, start, end) {
    if (item.dateLevel) {
      return dayOf(start) === dayOf(end) ? shortDay(start) : shortDay(start) + ' – ' + shortDay(end);
    }
    return shortDay(start) + ', ' + clock(start) + ' – ' + (dayOf(start) === dayOf(end) ? '' : shortDay(end) + ', ') + clock(end);
  }

  // --- what the page holds ---------------------------------------------------------------
  function truthy(value) { return value === 'true' || value === '1'; }
  function rootOf(el) { return el && el.closest ? el.closest('[data-move-url]') : null; }
  function regionOf(root) {
    return (root && root.closest('[data-calendar-region]')) || document.getElementById('calendar-body') || (root && root.parentElement);
  }
  function itemOf(block) {
    var d = block.dataset;
    var start = parseWall(d.start);
    if (!start || !d.kind || !d.id) { return null; }
    var end = parseWall(d.end) || start;
    var dateLevel = d.kind === 'task' || truthy(d.allDay) || start.dateOnly;
    var first = start.t, last = Math.max(end.t, start.t);
    if (dateLevel) {
      // days: an all-day event drawn as [local midnight, the midnight after its last day)
      first = dayOf(first);
      if (!end.dateOnly && last > first && last === dayOf(last)) { last -= DAY; }
      last = Math.max(dayOf(last), first);
    }
    return {
      block: block, kind: d.kind, id: d.id, version: d.version || '', occurrence: d.occurrence || '',
      start: first, end: last, dateLevel: dateLevel,
      title: d.title || (block.textContent || '').trim().split('\n')[0].trim()
    };
  }
  function isMovable(block) { return !!block && truthy(block.getAttribute('data-movable')); }

  // The drop target under a point: an hour slot, else a day cell, inside `root`. Blocks do
  // not catch the point while a drag is on (CSS: .cal-drag-active .cal-item), so a slot
  // under a block is found.
  function targetAt(root, x, y) {
    var el = document.elementFromPoint(x, y);
    if (!el || !root || !root.contains(el)) { return null; }
    var slot = el.closest('[data-datetime]');
    if (slot && root.contains(slot)) { return { el: slot, time: true, day: parseWall(slot.getAttribute('data-datetime').slice(0, 10)).t }; }
    var cell = el.closest('[data-date]');
    if (cell && root.contains(cell)) {
      var day = parseWall(cell.getAttribute('data-date'));
      return day ? { el: cell, time: false, day: day.t } : null;
    }
    return null;
  }
  // A slot's length: data-slot-minutes (on it or around it), else up to the next slot.
  function slotMinutes(slot) {
    var holder = slot.closest('[data-slot-minutes]');
    var minutes = parseInt(holder ? holder.getAttribute('data-slot-minutes') : '', 10);
    if (minutes > 0) { return minutes; }
    var next = slot.nextElementSibling;
    if (next && next.hasAttribute('data-datetime')) {
      var a = parseWall(slot.getAttribute('data-datetime')), b = parseWall(next.getAttribute('data-datetime'));
      if (a && b && b.t > a.t) { return (b.t - a.t) / MIN; }
    }
    var previous = slot.previousElementSibling;
    if (previous && previous.hasAttribute('data-datetime')) {
      var c = parseWall(previous.getAttribute('data-datetime')), d = parseWall(slot.getAttribute('data-datetime'));
      if (c && d && d.t > c.t) { return (d.t - c.t) / MIN; }
    }
    return 60;
  }
  // The time at height y of an hour slot, snapped to SNAP minutes (down, or up for an end).
  function timeAt(slot, y, up) {
    var base = parseWall(slot.getAttribute('data-datetime')).t;
    var minutes = slotMinutes(slot);
    var box = slot.getBoundingClientRect();
    var frac = box.height ? Math.min(Math.max((y - box.top) / box.height, 0), 0.999) : 0;
    var offset = frac * minutes;
    offset = up ? Math.ceil(offset / SNAP) * SNAP : Math.floor(offset / SNAP) * SNAP;
    return base + offset * MIN;
  }
  // The crew view's person of a row or cell (data-person, or data-user inside the calendar:
  // <body> carries the viewer's own data-user, which is no row).
  function personOf(el, root) {
    var row = el && el.closest ? el.closest('[data-person], [data-user]') : null;
    if (!row || !root || !root.contains(row)) { return ''; }
    return row.getAttribute('data-person') || row.getAttribute('data-user') || '';
  }

  // --- one drag at a time ------------------------------------------------------------------
  var press = null; // a pointer down on a block, not yet a drag
  var drag = null; // the drag under way

  // Blocks let the point through to the slots and cells while a drag is on (the class is
  // on <html>, which a live redraw of the calendar mid-drag does not replace).
  function withoutBlocks(fn) {
    var html = document.documentElement;
    html.classList.add('cal-probe');
    try { return fn(); } finally { html.classList.remove('cal-probe'); }
  }

  document.addEventListener('pointerdown', function (evt) {
    if (drag || selecting) { return; }
    if (evt.pointerType === 'mouse' && evt.button !== 0) { return; }
    var block = evt.target.closest ? evt.target.closest('.cal-item') : null;
    var root = rootOf(block);
    if (!block || !root || !isMovable(block)) { return; }
    var handle = evt.target.closest('[data-cal-resize]');
    // the block's own face (its summary) drags; what is inside its opened details does not
    if (!handle && evt.target.closest('input, select, textarea, a, button, form, .cal-pop, .cal-select, [data-cal-no-drag]')) { return; }
    var item = itemOf(block);
    if (!item) { return; }
    press = {
      id: evt.pointerId, type: evt.pointerType, x: evt.clientX, y: evt.clientY, block: block, root: root,
      item: item, mode: handle ? 'resize' : 'move', timer: null
    };
    if (evt.pointerType !== 'mouse') {
      // a finger: lift the block after a rest; moving first is a scroll or a tap
      var held = press;
      held.timer = setTimeout(function () { if (press === held) { begin(held, held.x, held.y); } }, LONG_PRESS);
    }
    if (handle) { evt.preventDefault(); }
  });

  document.addEventListener('pointermove', function (evt) {
    if (press && evt.pointerId === press.id) {
      var moved = Math.abs(evt.clientX - press.x) + Math.abs(evt.clientY - press.y);
      if (press.type === 'mouse') {
        if (moved > MOUSE_SLOP) { begin(press, evt.clientX, evt.clientY); }
      } else if (moved > TOUCH_SLOP) {
        clearTimeout(press.timer);
        press = null;
      }
      if (!drag) { return; }
    }
    if (!drag || evt.pointerId !== drag.id) { return; }
    evt.preventDefault();
    follow(evt.clientX, evt.clientY);
  });

  document.addEventListener('pointerup', function (evt) {
    if (press && evt.pointerId === press.id) { clearTimeout(press.timer); press = null; }
    if (!drag || evt.pointerId !== drag.id) { return; }
    follow(evt.clientX, evt.clientY);
    finish(true);
  });

  document.addEventListener('pointercancel', function (evt) {
    if (press && evt.pointerId === press.id) { clearTimeout(press.timer); press = null; }
    if (drag && evt.pointerId === drag.id) { finish(false); }
  });

  document.addEventListener('keydown', function (evt) {
    if (evt.key === 'Escape' && drag) { evt.preventDefault(); finish(false); }
  });

  // A long press on a phone opens no context menu on a block being lifted.
  document.addEventListener('contextmenu', function (evt) {
    if (drag || (press && press.type !== 'mouse')) { evt.preventDefault(); }
  });

  function begin(from, x, y) {
    var block = from.block, root = from.root, item = from.item;
    clearTimeout(from.timer);
    press = null;
    // where the pointer took hold: the day (and time) under it, so that the block keeps
    // its place under the pointer (grabbing a three-day bar by its last day)
    var origin = withoutBlocks(function () { return targetAt(root, from.x, from.y); });
    if (origin && origin.time) { origin.at = timeAt(origin.el, from.y, false); } // kept: a live redraw may replace the slot
    var ghost = block.cloneNode(true);
    ghost.removeAttribute('id');
    ghost.querySelectorAll('[id]').forEach(function (el) { el.removeAttribute('id'); });
    ghost.classList.add('cal-ghost');
    ghost.setAttribute('aria-hidden', 'true');
    var label = document.createElement('span');
    label.className = 'cal-ghost-when';
    ghost.appendChild(label);
    var box = block.getBoundingClientRect();
    ghost.style.width = Math.max(box.width, 80) + 'px';
    document.body.appendChild(ghost);
    drag = {
      id: from.id, type: from.type, block: block, root: root, item: item, mode: from.mode, ghost: ghost, label: label,
      dx: from.x - box.left, dy: from.y - box.top, origin: origin, proposal: null, over: null,
      startedAt: { x: from.x, y: from.y }
    };
    block.classList.add('cal-dragging');
    document.documentElement.classList.add('cal-drag-active');
    try { block.setPointerCapture(from.id); } catch (err) { /* the pointer is gone already */ }
    if (from.type !== 'mouse' && navigator.vibrate) { try { navigator.vibrate(15); } catch (err) { /* not allowed */ } }
    follow(x, y);
  }

  function propose(x, y) {
    var root = drag.root.isConnected ? drag.root : document.querySelector('[data-move-url]');
    var target = root ? targetAt(root, x, y) : null;
    if (!target) { return null; }
    var item = drag.item, origin = drag.origin;
    var start = item.start, end = item.end;
    if (drag.mode === 'move') {
      if (target.time && !item.dateLevel) {
        var at = timeAt(target.el, y, false);
        if (origin && origin.time) {
          start = item.start + (at - origin.at);
          start = Math.round(start / (SNAP * MIN)) * SNAP * MIN;
        } else {
          start = at;
        }
        end = start + (item.end - item.start);
      } else {
        var grabbedDay = origin ? origin.day : dayOf(item.start);
        var shift = target.day - grabbedDay;
        start = item.start + shift;
        end = item.end + shift;
      }
    } else if (target.time && !item.dateLevel) {
      end = Math.max(timeAt(target.el, y, true), item.start + SNAP * MIN);
    } else if (item.dateLevel) {
      end = Math.max(target.day, dayOf(item.start));
    } else {
      end = target.day + (item.end - dayOf(item.end)); // a timed event's end moves by days, keeping its time
      if (end <= item.start) { return null; }
    }
    var proposal = { start: start, end: end, person: '', fromPerson: '', el: target.el };
    var to = personOf(target.el, root), from = personOf(drag.block, root);
    if (drag.mode === 'move' && to && from && to !== from) { proposal.person = to; proposal.fromPerson = from; }
    return proposal;
  }

  function follow(x, y) {
    var ghost = drag.ghost;
    ghost.style.transform = 'translate(' + Math.round(x - drag.dx) + 'px, ' + Math.round(y - drag.dy) + 'px)';
    var proposal = propose(x, y);
    drag.proposal = proposal;
    if (drag.over && (!proposal || drag.over !== proposal.el)) { drag.over.classList.remove('cal-drop-target'); drag.over = null; }
    if (proposal && proposal.el !== drag.over) { drag.over = proposal.el; drag.over.classList.add('cal-drop-target'); }
    drag.label.textContent = proposal ? describe(drag.item, proposal.start, proposal.end) : 'Drop on a day or time';
    ghost.classList.toggle('cal-ghost-nowhere', !proposal);
  }

  function changed(item, proposal) {
    return proposal && (proposal.start !== item.start || proposal.end !== item.end || proposal.person);
  }

  function finish(drop) {
    var done = drag;
    drag = null;
    done.ghost.remove();
    if (done.over) { done.over.classList.remove('cal-drop-target'); }
    done.block.classList.remove('cal-dragging');
    document.documentElement.classList.remove('cal-drag-active');
    try { done.block.releasePointerCapture(done.id); } catch (err) { /* already released */ }
    swallowClick();
    if (drop && changed(done.item, done.proposal)) { send(done, done.proposal); }
  }

  // The click that ends a drag does not also open the block's details.
  function swallowClick() {
    function swallow(evt) { evt.preventDefault(); evt.stopPropagation(); }
    document.addEventListener('click', swallow, true);
    setTimeout(function () { document.removeEventListener('click', swallow, true); }, 0);
  }

  // --- saving: the answer is the calendar re-rendered (htmx swaps it) ----------------------
  function stateOf(region) {
    var values = {};
    if (!region) { return values; }
    region.querySelectorAll('[data-live-state] input[name]').forEach(function (input) { values[input.name] = input.value; });
    return values;
  }
  function formatted(item, t) { return item.dateLevel ? isoDate(t) : isoWall(t); }

  function send(done, proposal) {
    var item = done.item;
    var root = done.root.isConnected ? done.root : document.querySelector('[data-move-url]');
    if (!root || !window.htmx) { return; }
    var region = regionOf(root);
    var values = stateOf(region);
    values.kind = item.kind;
    values.id = item.id;
    values.version = item.version;
    values.occurrence = item.occurrence;
    values.start = formatted(item, proposal.start);
    values.end = formatted(item, proposal.end);
    values.mode = done.mode;
    if (proposal.person) { values.person = proposal.person; values.from_person = proposal.fromPerson; }
    if (done.block.isConnected) {
      done.block.classList.add('cal-saving'); // dimmed until the answer redraws the calendar
      done.block.setAttribute('data-cal-pending', describe(item, proposal.start, proposal.end));
    }
    window.htmx.ajax('POST', root.getAttribute('data-move-url'), {
      source: region, target: region, swap: 'innerHTML', values: values
    }).catch(function () {
      if (done.block.isConnected) { done.block.classList.remove('cal-saving'); }
      flash('The move could not be saved (no connection). Try again.');
    });
  }

  function flash(message) {
    var flashes = document.getElementById('flashes');
    if (!flashes) { return; }
    var note = document.createElement('div');
    note.className = 'flash flash-error';
    note.setAttribute('role', 'alert');
    note.textContent = message;
    flashes.appendChild(note);
  }

  // The calendar's moves and bulk actions answer the calendar as the page shows it: they
  // carry its view, day and filters (the URL, which htmx keeps pushed) unless sent already.
  var STATE_KEYS = ['view', 'date', 'project', 'pm', 'employee', 'status', 'type', 'q'];
  document.addEventListener('htmx:configRequest', function (evt) {
    var detail = evt.detail;
    if (!detail || !detail.path || (detail.verb || '').toLowerCase() !== 'post') { return; }
    if (!/^\/calendar\/(move|bulk)/.test(detail.path)) { return; }
    var shown = new URLSearchParams(window.location.search);
    STATE_KEYS.forEach(function (key) {
      if (shown.get(key) && detail.parameters[key] === undefined) { detail.parameters[key] = shown.get(key); }
    });
    if (/^\/calendar\/bulk/.test(detail.path)) {
      var versions = [];
      Object.keys(selected).forEach(function (key) {
        if (selected[key] !== true) { versions.push(key + ':' + selected[key]); }
      });
      if (versions.length) { detail.parameters.versions = versions; }
    }
  });

  // --- resize handles: one at the bottom of every movable block ---------------------------
  function addHandles(scope) {
    (scope || document).querySelectorAll('.cal-item').forEach(function (block) {
      if (!isMovable(block) || block.querySelector('[data-cal-resize]')) { return; }
      if (block.tagName === 'A' || block.tagName === 'BUTTON') { return; }
      var handle = document.createElement('span');
      handle.className = 'cal-resize';
      handle.setAttribute('data-cal-resize', '');
      handle.setAttribute('aria-hidden', 'true'); // the keyboard way is "Move…" in the block's details
      handle.title = 'Drag to change the end';
      block.appendChild(handle);
    });
  }

  // --- multi-select: a box on each block while "Select" is on; the bulk bar acts on them --
  var selecting = false;
  // "kind:id" → the version it was selected on (its block's data-version; a redraw showing
  // a newer one updates it: what is acted on is what the page shows), or true when not
  // known; survives the live redraws of the calendar. The bulk bar sends the versions, and
  // an item changed since by someone else is refused as stale, not overwritten.
  var selected = {};

  function selectable(block) { return block.dataset.kind && block.dataset.id && !block.dataset.occurrence; }
  function keyOf(block) { return block.dataset.kind + ':' + block.dataset.id; }

  function boxes(scope) {
    (scope || document).querySelectorAll('.cal-item').forEach(function (block) {
      var box = block.querySelector(':scope > .cal-select') || (block.previousElementSibling && block.previousElementSibling.matches('.cal-select') ? block.previousElementSibling : null);
      if (!selecting || !selectable(block)) {
        if (box) { box.remove(); }
        block.classList.remove('cal-selected');
        return;
      }
      if (!box) {
        box = document.createElement('input');
        box.type = 'checkbox';
        box.className = 'cal-select';
        box.name = 'items';
        box.value = keyOf(block);
        box.setAttribute('form', 'cal-bulk-form');
        box.setAttribute('aria-label', 'Select ' + (block.dataset.title || (block.textContent || '').trim().slice(0, 80)));
        box.setAttribute('data-testid', 'cal-select');
        if (block.tagName === 'A' || block.tagName === 'BUTTON' || block.tagName === 'SUMMARY') {
          block.parentNode.insertBefore(box, block);
        } else {
          block.insertBefore(box, block.firstChild);
        }
      }
      box.checked = !!selected[box.value];
      if (box.checked && block.dataset.version) { selected[box.value] = block.dataset.version; }
      block.classList.toggle('cal-selected', box.checked);
    });
    bar();
  }

  function bar() {
    var form = document.getElementById('cal-bulk-form');
    if (!form) { return; }
    var count = Object.keys(selected).length;
    form.hidden = !selecting;
    document.querySelectorAll('[data-cal-select-toggle]').forEach(function (button) {
      button.setAttribute('aria-pressed', selecting ? 'true' : 'false');
      button.textContent = selecting ? 'Done selecting' : 'Select';
    });
    var counter = form.querySelector('[data-cal-count]');
    if (counter) { counter.textContent = count + ' selected'; }
    form.querySelectorAll('[data-cal-needs-selection]').forEach(function (control) { control.disabled = !count; });
    // only the chosen action's own control is sent (and shown)
    var action = form.querySelector('select[name=action]');
    form.querySelectorAll('[data-cal-bulk-for]').forEach(function (control) {
      var on = !!action && control.getAttribute('data-cal-bulk-for') === action.value;
      control.disabled = !on;
      control.hidden = !on;
    });
    // the selection travels as hidden inputs too: a live redraw of the calendar, or a
    // block scrolled out of another month, keeps it
    var carried = form.querySelector('[data-cal-carried]');
    if (carried) {
      carried.textContent = '';
      Object.keys(selected).forEach(function (key) {
        if (document.querySelector('.cal-select[value="' + CSS.escape(key) + '"]')) { return; }
        var input = document.createElement('input');
        input.type = 'hidden';
        input.name = 'items';
        input.value = key;
        carried.appendChild(input);
      });
    }
  }

  function setSelecting(on) {
    selecting = on;
    if (!on) { selected = {}; }
    document.querySelectorAll('[data-move-url]').forEach(function (root) { root.classList.toggle('cal-selecting', on); });
    boxes(document);
  }

  document.addEventListener('click', function (evt) {
    var toggle = evt.target.closest ? evt.target.closest('[data-cal-select-toggle]') : null;
    if (toggle) { evt.preventDefault(); setSelecting(!selecting); return; }
    if (!selecting) { return; }
    var box = evt.target.closest ? evt.target.closest('.cal-select') : null;
    if (box) { return; } // its change event does the rest
    var block = evt.target.closest ? evt.target.closest('.cal-item') : null;
    if (!block || !rootOf(block) || !selectable(block)) { return; }
    // in select mode a tap on a block ticks it instead of opening it
    evt.preventDefault();
    var own = block.querySelector(':scope > .cal-select') || block.previousElementSibling;
    if (own && own.matches && own.matches('.cal-select')) {
      own.checked = !own.checked;
      own.dispatchEvent(new Event('change', { bubbles: true }));
    }
  });

  document.addEventListener('change', function (evt) {
    var box = evt.target;
    if (box && box.matches && box.matches('.cal-select')) {
      if (box.checked) {
        var shown = box.nextElementSibling && box.nextElementSibling.matches('.cal-item') ? box.nextElementSibling : box.closest('.cal-item');
        selected[box.value] = (shown && shown.dataset.version) || true;
      } else {
        delete selected[box.value];
      }
      // the same item drawn twice (a bar over two weeks, a task in two people's rows)
      document.querySelectorAll('.cal-select[value="' + CSS.escape(box.value) + '"]').forEach(function (other) {
        other.checked = box.checked;
        var block = other.nextElementSibling && other.nextElementSibling.matches('.cal-item') ? other.nextElementSibling : other.closest('.cal-item');
        if (block) { block.classList.toggle('cal-selected', box.checked); }
      });
      bar();
      return;
    }
    if (box && box.name === 'action' && box.form && box.form.id === 'cal-bulk-form') { bar(); }
  });

  // The bulk bar's answer: what was done is in the flash area; what was acted on is
  // forgotten (a refused item stays ticked, to try again otherwise).
  document.addEventListener('htmx:afterRequest', function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    if (!xhr) { return; }
    var kept = xhr.getResponseHeader('X-Kibray-Kept'); // the bulk bar's, or its delete confirmation's
    if (kept === null) { return; }
    selected = {};
    kept.split(',').forEach(function (key) { if (key) { selected[key] = true; } });
  });

  // --- after every swap: handles and selection boxes again ---------------------------------
  function wire(scope) {
    addHandles(scope);
    document.querySelectorAll('[data-move-url]').forEach(function (root) { root.classList.toggle('cal-selecting', selecting); });
    boxes(document);
  }
  document.addEventListener('DOMContentLoaded', function () { wire(document); });
  document.addEventListener('htmx:load', function (evt) { wire(evt.target || document); });
  document.addEventListener('htmx:afterSettle', function () { boxes(document); });
  if (document.readyState !== 'loading') { wire(document); }
})();
