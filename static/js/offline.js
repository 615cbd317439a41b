/* Offline support: registers the service worker and shows the offline notice. */
(function () {
  'use strict';

  var notice = document.getElementById('offline-notice');
  function update() {
    if (!notice) return;
    // data-cached: the service worker served this page from the device (the network failed).
    notice.hidden = !(notice.hasAttribute('data-cached') || navigator.onLine === false);
  }
  window.addEventListener('online', update);
  window.addEventListener('offline', update);
  update();

  var script = document.currentScript;
  var worker = script && script.getAttribute('data-sw');
  if (worker && 'serviceWorker' in navigator) {
    window.addEventListener('load', function () {
      navigator.serviceWorker.register(worker).catch(function () { /* no offline copy, the site still works */ });
    });
  }
})();
