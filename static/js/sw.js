/* Service worker, served at /sw.js (scope: the whole site).
   Public pages: network first, the last copy on the device when the network fails or stalls.
   Static files of a release (/static/r/<digest>/<path>, what asset_url() gives, and the ES
   modules they import by relative paths): cache first, kept only when sent `immutable` (a file
   of another release is sent briefly cacheable: never kept); when such a file is neither on the
   device nor reachable, the device's copy of the same file from another release stands in (a
   page kept before a deploy still shows styled). Anything sent with Cache-Control: no-store
   (staff screens, login) is never kept.
   The door check-in station (/e/<slug>/checkin) works offline too: its page (sent `private,
   no-cache`) is kept like the attendee's own space; modules loaded without a release
   (/static/js/checkin/*, /static/js/net/*, /static/vendor/*) are network first with the device's copy as fallback.
   The station asks for all of it to be kept on its first visit (message "keep-station"), before
   this worker ever saw those requests. API calls (/api/...) are never intercepted: the station's
   kit and queue live in IndexedDB (static/js/checkin/store.js).
   The rapporteur's capture page (/e/<slug>/notes/<code>) is kept the same way (message
   "keep-page", modules static/js/notes/*); its notes wait in IndexedDB (static/js/notes/store.js).
   Its photos already sent (/e/<slug>/notes/photos/<name>: random names, never reused) are cache
   first in a cache of their own, kept on this device (`private`) to show offline. */
'use strict';

var VERSION = 'v1';
var PAGES = 'forum-pages-' + VERSION;
var ASSETS = 'forum-assets-' + VERSION;
var MODULES = 'forum-modules-' + VERSION;
var PHOTOS = 'forum-photos-' + VERSION;
var NETWORK_TIMEOUT_MS = 4000;
var PAGE_PATTERNS = [
  /^\/$/,
  /^\/e\/[^/]+\/$/,
  /^\/e\/[^/]+\/s\/[^/.]+$/,
  /^\/e\/[^/]+\/mon-programme$/,
  /^\/e\/[^/]+\/schedule\.json$/,
  /^\/e\/[^/]+\/me\/[^/.]+$/,
  /^\/e\/[^/]+\/checkin$/,
  /^\/e\/[^/]+\/notes\/[^/.]+$/
];
var PROGRAMME_PAGE = /^\/e\/[^/]+\/$/;
/* The attendee's own space (their badge must show at the door without network). It is sent
   `Cache-Control: private, no-cache`: kept on this device, never in a shared cache. A 404 for it
   (erased, or a reissued link) drops the copy. */
var PERSONAL_PAGE = /^\/e\/[^/]+\/me\/[^/.]+$/;
/* The check-in station: a staff page kept on this device (`private`), never in a shared cache. */
var STATION_PAGE = /^\/e\/[^/]+\/checkin$/;
/* The rapporteur's capture page: a staff page kept on this device (`private`), like the station. */
var NOTES_PAGE = /^\/e\/[^/]+\/notes\/[^/.]+$/;
/* A release's static files: /static/r/<digest>/<path> (forum_app/web.py). */
var RELEASE_FILE = /^\/static\/r\/[^/]+\/(.+)$/;
/* Static files loaded without a release (the release's modules import each other relatively). */
var MODULE_FILES = /^\/static\/(js\/checkin|js\/notes|js\/net|vendor)\//;
/* The rapporteurs' photos: immutable names, sent `private` to staff only. */
var NOTES_PHOTO = /^\/e\/[^/]+\/notes\/photos\/[^/]+$/;

self.addEventListener('install', function () { self.skipWaiting(); });

self.addEventListener('activate', function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) {
        return key.indexOf('forum-') === 0 && key !== PAGES && key !== ASSETS && key !== MODULES && key !== PHOTOS;
      }).map(function (key) { return caches.delete(key); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf('/static/') === 0) {
    if (versioned(url)) event.respondWith(cacheFirst(request, url));
    else if (MODULE_FILES.test(url.pathname)) event.respondWith(networkFirstFile(event, request));
    return;
  }
  if (NOTES_PHOTO.test(url.pathname)) {
    event.respondWith(photoCacheFirst(request));
    return;
  }
  if (PAGE_PATTERNS.some(function (pattern) { return pattern.test(url.pathname); })) {
    event.respondWith(networkFirst(event, request, url));
  }
});

function cacheable(response, personal) {
  var control = (response && response.headers.get('Cache-Control')) || '';
  return response && response.ok && response.type === 'basic' &&
    !/no-store/.test(control) && (personal || !/private/.test(control));
}

/* A file that never changes under its URL: a release's (/static/r/<digest>/...) or, from pages
   kept before releases had digests, one with ?v=<hash>. */
function versioned(url) {
  return RELEASE_FILE.test(url.pathname) || url.searchParams.has('v');
}

/* The file a versioned URL names, whatever its release: "css/app.css". */
function fileOf(url) {
  var release = RELEASE_FILE.exec(url.pathname);
  return release ? release[1] : url.pathname.replace(/^\/static\//, '');
}

function immutable(response) {
  return cacheable(response) && /immutable/.test(response.headers.get('Cache-Control') || '');
}

function cacheFirst(request, url) {
  return caches.open(ASSETS).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (hit) {
      if (hit) return hit;
      return fetch(request).then(function (response) {
        if (immutable(response)) {
          cache.put(request, response.clone()).then(function () { return dropOlderVersions(cache, url); });
        }
        return response;
      }).catch(function (error) {
        return anyVersionOf(cache, url).then(function (near) {
          if (near) return near;
          throw error;
        });
      });
    });
  });
}

/* Offline, a page of an earlier release asks for its files: the device's copy from another release. */
function anyVersionOf(cache, url) {
  var file = fileOf(url);
  return cache.keys().then(function (keys) {
    var key = keys.find(function (k) { return fileOf(new URL(k.url)) === file; });
    return key ? cache.match(key, { ignoreVary: true }) : null;
  });
}

/* A note's photo: the device's copy, else the network (kept when it answers 200; a redirect to the
   login page or a refusal is never kept). */
function photoCacheFirst(request) {
  return caches.open(PHOTOS).then(function (cache) {
    return cache.match(request, { ignoreVary: true, ignoreSearch: true }).then(function (hit) {
      if (hit) return hit;
      return fetch(request).then(function (response) {
        if (cacheable(response, true) && !response.redirected) cache.put(request, response.clone());
        return response;
      });
    });
  });
}

function dropOlderVersions(cache, url) {
  var file = fileOf(url);
  return cache.keys().then(function (keys) {
    keys.forEach(function (key) {
      var known = new URL(key.url);
      if (fileOf(known) === file && known.href !== url.href) cache.delete(key);
    });
  });
}

function networkFirst(event, request, url) {
  return caches.open(PAGES).then(function (cache) {
    var station = STATION_PAGE.test(url.pathname) || NOTES_PAGE.test(url.pathname);
    var personal = PERSONAL_PAGE.test(url.pathname) || station;
    var network = fetch(request).then(function (response) {
      if (cacheable(response, personal) && !(station && response.redirected)) cache.put(request, response.clone());
      else if (personal && response.status === 404) cache.delete(request, { ignoreVary: true });
      return response;
    });
    var timeout = new Promise(function (resolve) { setTimeout(resolve, NETWORK_TIMEOUT_MS, null); });
    return Promise.race([network, timeout]).then(function (response) {
      if (response) return response;
      // The network stalls (venue Wi-Fi): show the copy on the device, keep updating it in the background.
      return cache.match(request, { ignoreVary: true }).then(function (hit) {
        if (!hit) return network;
        event.waitUntil(network.catch(function () {}));
        return markOffline(hit);
      });
    }).catch(function () {
      return cache.match(request, { ignoreVary: true }).then(function (hit) {
        if (hit) return markOffline(hit);
        if (request.mode !== 'navigate') return Response.error();
        // Another version of the same page (another day or filter: the page says which), else any programme.
        return cache.match(request, { ignoreVary: true, ignoreSearch: true }).then(function (near) {
          return near || (station ? null : anyProgramme(cache));
        }).then(function (page) { return page ? markOffline(page) : offlinePage(); });
      });
    });
  });
}

/* Unversioned static files (module imports): the network, the device's copy when it fails or stalls. */
function networkFirstFile(event, request) {
  return caches.open(MODULES).then(function (cache) {
    var network = fetch(request).then(function (response) {
      if (cacheable(response)) cache.put(request, response.clone());
      return response;
    });
    var timeout = new Promise(function (resolve) { setTimeout(resolve, NETWORK_TIMEOUT_MS, null); });
    return Promise.race([network, timeout]).then(function (response) {
      if (response) return response;
      return cache.match(request, { ignoreVary: true }).then(function (hit) {
        if (!hit) return network;
        event.waitUntil(network.catch(function () {}));
        return hit;
      });
    }).catch(function () {
      return cache.match(request, { ignoreVary: true }).then(function (hit) { return hit || Response.error(); });
    });
  });
}

/* The station page asks, on each online visit, to keep itself and the files it loaded (it may
   have been loaded before this worker controlled it). Only same-origin station pages and static
   files are kept, each in the cache its own requests would use. */
self.addEventListener('message', function (event) {
  var data = event.data || {};
  if ((data.type !== 'keep-station' && data.type !== 'keep-page') || !Array.isArray(data.urls)) return;
  event.waitUntil(Promise.all(data.urls.slice(0, 100).map(function (href) {
    var url;
    try { url = new URL(href, self.location.origin); } catch (error) { return null; }
    if (url.origin !== self.location.origin) return null;
    var name = null;
    if (STATION_PAGE.test(url.pathname) || NOTES_PAGE.test(url.pathname)) name = PAGES;
    else if (url.pathname.indexOf('/static/') === 0) name = versioned(url) ? ASSETS : (MODULE_FILES.test(url.pathname) ? MODULES : null);
    if (!name) return null;
    return caches.open(name).then(function (cache) {
      return cache.match(url.href, { ignoreVary: true }).then(function (hit) {
        if (hit && name === ASSETS) return null; // versioned: never changes
        return fetch(url.href, { credentials: 'same-origin' }).then(function (response) {
          if (!cacheable(response, name === PAGES) || response.redirected) return null;
          if (name === ASSETS && !immutable(response)) return null;
          return cache.put(url.href, response).then(function () {
            if (name === ASSETS) return dropOlderVersions(cache, url);
            return null;
          });
        });
      });
    }).catch(function () { return null; });
  })));
});

function anyProgramme(cache) {
  return cache.keys().then(function (keys) {
    var key = keys.find(function (k) { return PROGRAMME_PAGE.test(new URL(k.url).pathname); });
    return key ? cache.match(key, { ignoreVary: true }) : null;
  });
}

/* Turn on the page's offline notice (the markup has it, hidden). */
function markOffline(response) {
  var type = response.headers.get('Content-Type') || '';
  if (type.indexOf('text/html') === -1) return response;
  return response.clone().text().then(function (html) {
    var headers = new Headers(response.headers);
    headers.delete('Content-Encoding');
    headers.delete('Content-Length');
    return new Response(html.replace('data-offline-notice hidden', 'data-offline-notice data-cached'), {
      status: 200,
      statusText: 'OK',
      headers: headers
    });
  });
}

function offlinePage() {
  var html = '<!doctype html><html lang="fr"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Hors connexion</title></head>' +
    '<body><main><h1>Hors connexion</h1>' +
    '<p>Cette page n\u2019a pas encore été enregistrée sur cet appareil. Reconnectez-vous puis réessayez.</p>' +
    '<p lang="en">You are offline and this page has not been saved on this device yet.</p>' +
    '<p><a href="/">Accueil</a></p></main></body></html>';
  return new Response(html, { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
}
