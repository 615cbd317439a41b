/* Live refresh by polling with ETags (no long-held connections).

   <div data-live-url="/e/x/admin/arrivals/live?..." data-live-etag='W/"..."' data-live-interval="10000">
     ... <div data-live-part="top">...</div> ... <div data-live-part="no-shows">...</div>
   </div>
   <span data-live-announce role="status" data-template="Mis à jour à {time}" data-error="...{time}...">

   Every interval the fragment URL is asked with If-None-Match: 304 changes nothing; 200 swaps each
   [data-live-part] of the page with the part of the same name in the answer, keeping the focused
   element (by id), the page's scroll and the horizontal scroll of [data-keep-scroll] boxes, then
   says politely "Mis à jour à 9 h 12" (the time comes from the answer's data-updated).
   Paused while the tab is hidden; asks again as soon as it is shown. Without JavaScript the page
   is simply a page: reload it. */
(function () {
  'use strict';

  var region = document.querySelector('[data-live-url]');
  if (!region || !window.fetch || !window.DOMParser) return;
  var announce = document.querySelector('[data-live-announce]');
  var url = region.getAttribute('data-live-url');
  var etag = region.getAttribute('data-live-etag') || '';
  var lastTime = '';
  var timer = null;
  var busy = false;
  var failed = false;

  function interval() {
    var value = parseInt(region.getAttribute('data-live-interval'), 10);
    return value > 0 ? Math.max(value, 500) : 10000;
  }

  function say(template, time) {
    if (!announce || !template) return;
    announce.textContent = template.replace('{time}', time);
  }

  function keepScroll() {
    var kept = {};
    region.querySelectorAll('[data-keep-scroll]').forEach(function (box) {
      kept[box.getAttribute('data-keep-scroll')] = box.scrollLeft;
    });
    return kept;
  }

  function restoreScroll(kept) {
    region.querySelectorAll('[data-keep-scroll]').forEach(function (box) {
      var left = kept[box.getAttribute('data-keep-scroll')];
      if (left !== undefined) box.scrollLeft = left;
    });
  }

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, 'text/html');
    var parts = doc.querySelectorAll('[data-live-part]');
    if (!parts.length) return false;
    var active = document.activeElement;
    var focusId = active && region.contains(active) && active.id ? active.id : null;
    var x = window.scrollX, y = window.scrollY;
    var kept = keepScroll();
    parts.forEach(function (part) {
      var name = part.getAttribute('data-live-part');
      var target = region.querySelector('[data-live-part="' + name + '"]');
      if (!target) return;
      target.replaceChildren.apply(target, Array.prototype.slice.call(document.adoptNode(part).childNodes));
      Array.prototype.slice.call(part.attributes).forEach(function (attr) {
        target.setAttribute(attr.name, attr.value);
      });
      if (part.hasAttribute('data-updated')) lastTime = part.getAttribute('data-updated');
    });
    restoreScroll(kept);
    window.scrollTo(x, y);
    if (focusId) {
      var again = document.getElementById(focusId);
      if (again) again.focus({ preventScroll: true });
    }
    return true;
  }

  function poll() {
    timer = null;
    if (document.hidden) return;  // visibilitychange starts it again
    if (busy) return schedule();
    busy = true;
    var headers = { 'Accept': 'text/html' };
    if (etag) headers['If-None-Match'] = etag;
    fetch(url, { headers: headers, credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        if (response.status === 304) return null;
        if (!response.ok || response.redirected) throw new Error('HTTP ' + response.status);
        etag = response.headers.get('ETag') || '';
        return response.text();
      })
      .then(function (html) {
        if (html !== null && swap(html)) {
          say(announce && announce.getAttribute('data-template'), lastTime);
        }
        failed = false;
        if (announce) announce.classList.remove('is-stale');
      })
      .catch(function () {
        etag = '';  // back online, the next answer is a whole one, with its own time
        if (!failed && announce) {
          failed = true;
          say(announce.getAttribute('data-error'), lastTime || firstTime());
          announce.classList.add('is-stale');
        }
      })
      .then(function () {
        busy = false;
        schedule();
      });
  }

  function firstTime() {
    var top = region.querySelector('[data-updated]');
    return top ? top.getAttribute('data-updated') : '';
  }

  function schedule() {
    if (timer === null && !document.hidden) timer = window.setTimeout(poll, interval());
  }

  document.addEventListener('visibilitychange', function () {
    if (document.hidden) {
      if (timer !== null) window.clearTimeout(timer);
      timer = null;
    } else if (!busy) {
      if (timer !== null) window.clearTimeout(timer);
      timer = null;
      poll();
    }
  });

  lastTime = firstTime();
  schedule();
})();
