/* "Copier le lien" buttons: <button data-copy="<input id>" data-copied="…" data-copy-failed="…" hidden>.
   The button stays hidden without JavaScript (the link can still be selected by hand). */
(function () {
  'use strict';

  function say(button, message) {
    var status = button.parentNode.querySelector('[data-copy-status]');
    if (status) status.textContent = message;
  }

  function fallbackCopy(input) {
    input.focus();
    input.select();
    try { return document.execCommand('copy'); } catch (error) { return false; }
  }

  Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), function (button) {
    var input = document.getElementById(button.getAttribute('data-copy'));
    if (!input) return;
    button.hidden = false;
    input.addEventListener('focus', function () { input.select(); });
    button.addEventListener('click', function () {
      var done = function () { say(button, button.getAttribute('data-copied')); };
      var failed = function () {
        if (fallbackCopy(input)) done();
        else say(button, button.getAttribute('data-copy-failed'));
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, failed);
      } else {
        failed();
      }
    });
  });
})();
