/* Personal agenda without an account: starred session codes stay on this device (localStorage).
   Progressive enhancement: the star buttons are in the page, hidden, and only shown here. */
(function () {
  'use strict';

  var slug = document.body.getAttribute('data-event');
  if (!slug) return;
  var KEY = 'forum:agenda:' + slug;
  var storage;
  try {
    storage = window.localStorage;
    storage.getItem(KEY);
  } catch (error) {
    return; // storage refused (private mode, settings): stars stay hidden, the page still works
  }

  function read() {
    try {
      var value = JSON.parse(storage.getItem(KEY) || '[]');
      return Array.isArray(value) ? value.filter(function (code) { return typeof code === 'string'; }) : [];
    } catch (error) {
      return [];
    }
  }

  function write(list) {
    try { storage.setItem(KEY, JSON.stringify(list)); } catch (error) { /* quota: keep going in memory */ }
  }

  var codes = read();
  function has(code) { return codes.indexOf(code) !== -1; }

  var stars = document.querySelectorAll('button.star[data-code]');
  var counter = document.querySelector('[data-agenda-count]');
  var agenda = document.querySelector('[data-agenda]');

  function paint() {
    for (var i = 0; i < stars.length; i++) {
      stars[i].setAttribute('aria-pressed', has(stars[i].getAttribute('data-code')) ? 'true' : 'false');
    }
    if (counter) {
      counter.textContent = codes.length ? String(codes.length) : '';
      counter.hidden = !codes.length;
    }
  }

  function toggle(code) {
    codes = has(code) ? codes.filter(function (c) { return c !== code; }) : codes.concat([code]);
    write(codes);
    paint();
    if (agenda) refreshIcsLink();
  }

  for (var i = 0; i < stars.length; i++) stars[i].hidden = false;
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('button.star[data-code]');
    if (button) toggle(button.getAttribute('data-code'));
  });
  window.addEventListener('storage', function (event) {
    if (event.key === KEY) { codes = read(); paint(); if (agenda) refreshIcsLink(); }
  });

  /* "Mon programme": show the starred sessions (the page holds every session, hidden). */
  function refreshIcsLink() {
    var items = agenda.querySelectorAll('li[data-code]');
    var chosen = [];
    for (var i = 0; i < items.length; i++) {
      var code = items[i].getAttribute('data-code');
      if (has(code)) chosen.push(encodeURIComponent(code));
    }
    var link = document.getElementById('agenda-ics');
    var actions = document.getElementById('agenda-actions');
    if (link) link.href = agenda.getAttribute('data-ics') + '?s=' + chosen.join(',');
    if (actions) actions.hidden = !chosen.length;
  }

  function renderAgenda() {
    var nojs = document.getElementById('agenda-nojs');
    if (nojs) nojs.hidden = true;
    agenda.hidden = false;
    var shown = 0;
    var days = agenda.querySelectorAll('[data-agenda-day]');
    for (var d = 0; d < days.length; d++) {
      var items = days[d].querySelectorAll('li[data-code]');
      var inDay = 0;
      for (var i = 0; i < items.length; i++) {
        var keep = has(items[i].getAttribute('data-code'));
        items[i].hidden = !keep;
        if (keep) inDay++;
      }
      days[d].hidden = !inDay;
      shown += inDay;
    }
    var empty = document.getElementById('agenda-empty');
    if (empty) empty.hidden = shown > 0;
    refreshIcsLink();
  }

  paint();
  if (agenda) renderAgenda();
})();
