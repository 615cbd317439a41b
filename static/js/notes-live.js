/* The organisers' notes overview, live: polling with ETags (no long-held connections), the same
   approach as live.js (the arrivals dashboard), plus what a stream of notes needs.

   <div data-live-url="/e/x/admin/notes/live" data-live-etag='W/"..."' data-live-interval="5000">
     <div data-live-part="sessions" data-updated="14 h 15" data-total="42">...</div>
     <div data-live-part="latest"> <li data-item="17">...</li> ... </div>
   </div>
   <span data-live-announce role="status" data-template="Mis à jour à {time}"
         data-new-one="1 nouvel élément…{time}" data-new-many="{count} nouveaux éléments…{time}" data-error="…{time}…">

   Every interval the fragment is asked with If-None-Match: 304 changes nothing; 200 swaps each
   [data-live-part] with the part of the same name, keeping the focused element (by id) and the
   scroll, marks the items that were not there before (.is-new), and says politely how many new
   items arrived. Paused while the tab is hidden. Without JavaScript the page is a page: reload it. */
(function () {
  'use strict';

  var region = document.querySelector('[data-live-url]');
  if (!region || !window.fetch || !window.DOMParser) return;
  var announce = document.querySelector('[data-live-announce]');
  var url = region.getAttribute('data-live-url');
  var etag = region.getAttribute('data-live-etag') || '';
  var timer = null;
  var busy = false;
  var failed = false;
  var lastTime = attr('[data-updated]', 'data-updated');

  function attr(selector, name, root) {
    var node = (root || region).querySelector(selector);
    return node ? node.getAttribute(name) || '' : '';
  }

  function interval() {
    var value = parseInt(region.getAttribute('data-live-interval'), 10);
    return value > 0 ? Math.max(value, 500) : 5000;
  }

  function say(name, values) {
    var template = announce && announce.getAttribute(name);
    if (!template) return;
    announce.textContent = template.replace('{time}', values.time || '').replace('{count}', values.count || '');
  }

  function total(root) {
    var value = parseInt(attr('[data-total]', 'data-total', root), 10);
    return isNaN(value) ? null : value;
  }

  function itemIds() {
    var ids = {};
    region.querySelectorAll('[data-item]').forEach(function (node) { ids[node.getAttribute('data-item')] = true; });
    return ids;
  }

  function swap(doc) {
    var parts = doc.querySelectorAll('[data-live-part]');
    if (!parts.length) return false;
    var active = document.activeElement;
    var focusId = active && region.contains(active) && active.id ? active.id : null;
    var x = window.scrollX, y = window.scrollY;
    var known = itemIds();
    parts.forEach(function (part) {
      var target = region.querySelector('[data-live-part="' + part.getAttribute('data-live-part') + '"]');
      if (!target) return;
      target.replaceChildren.apply(target, Array.prototype.slice.call(document.adoptNode(part).childNodes));
      Array.prototype.slice.call(part.attributes).forEach(function (a) { target.setAttribute(a.name, a.value); });
    });
    region.querySelectorAll('[data-item]').forEach(function (node) {
      if (!known[node.getAttribute('data-item')]) node.classList.add('is-new');
    });
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
        if (html !== null) {
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var before = total(), after = total(doc);
          if (swap(doc)) {
            lastTime = attr('[data-updated]', 'data-updated') || lastTime;
            var added = before !== null && after !== null ? after - before : 0;
            if (added === 1) say('data-new-one', { time: lastTime });
            else if (added > 1) say('data-new-many', { time: lastTime, count: String(added) });
            else say('data-template', { time: lastTime });
          }
        }
        if (failed && announce) announce.classList.remove('is-stale');
        failed = false;
      })
      .catch(function () {
        etag = '';  // back online, the next answer is a whole one
        if (!failed && announce) {
          failed = true;
          say('data-error', { time: lastTime });
          announce.classList.add('is-stale');
        }
      })
      .then(function () {
        busy = false;
        schedule();
      });
  }

  function schedule() {
    if (timer === null && !document.hidden) timer = window.setTimeout(poll, interval());
  }

  document.addEventListener('visibilitychange', function () {
    if (timer !== null) window.clearTimeout(timer);
    timer = null;
    if (!document.hidden && !busy) poll();
  });

  schedule();
})();
