/* Attendee pages (register, personal space): small helpers, the pages work without them.
   - A form marked data-submit-once is sent once, however many times its button is pressed.
   - A personal space shown from the device's copy (offline) drops the one-off messages it held.
   - After an erasure, the copies of the personal space kept on this device are deleted. */
(function () {
  'use strict';

  Array.prototype.forEach.call(document.querySelectorAll('form[data-submit-once]'), function (form) {
    var sent = false;
    form.addEventListener('submit', function (event) {
      if (sent) { event.preventDefault(); return; }
      sent = true;
      Array.prototype.forEach.call(form.querySelectorAll('[type=submit]'), function (button) {
        button.setAttribute('aria-disabled', 'true');
        button.classList.add('is-busy');
      });
    });
    // Back to this page from the history (bfcache): the form can be sent again.
    window.addEventListener('pageshow', function (event) {
      if (!event.persisted) return;
      sent = false;
      Array.prototype.forEach.call(form.querySelectorAll('[type=submit]'), function (button) {
        button.removeAttribute('aria-disabled');
        button.classList.remove('is-busy');
      });
    });
  });

  var notice = document.getElementById('offline-notice');
  if (notice && notice.hasAttribute('data-cached')) {
    Array.prototype.forEach.call(document.querySelectorAll('.flash'), function (flash) { flash.remove(); });
  }

  var forget = document.querySelector('[data-forget-pages]');
  if (forget && 'caches' in window) {
    var prefix = forget.getAttribute('data-forget-pages');
    caches.keys().then(function (names) {
      return Promise.all(names.map(function (name) {
        return caches.open(name).then(function (cache) {
          return cache.keys().then(function (requests) {
            return Promise.all(requests.filter(function (request) {
              return new URL(request.url).pathname.indexOf(prefix) === 0;
            }).map(function (request) { return cache.delete(request); }));
          });
        });
      }));
    }).catch(function () { /* nothing kept, nothing to delete */ });
  }
})();
