/* Organiser header on phones: the section list folds behind a "Menu · <section>" button.

   The button is rendered by the server (translated, `hidden`), so without JavaScript the whole
   list stays visible. Below the breakpoint this module shows the button and hides the list;
   the button toggles it (aria-expanded), Escape closes it and puts focus back on the button.
   From the breakpoint up the button is hidden again and the list always shown. */

const WIDE = '(min-width: 48em)';

const nav = document.querySelector('[data-admin-nav]');
const button = nav && nav.querySelector('button[aria-controls]');
const list = button && document.getElementById(button.getAttribute('aria-controls'));
if (list) start();

function start() {
  const wide = window.matchMedia(WIDE);

  function setOpen(open) {
    button.setAttribute('aria-expanded', String(open));
    list.hidden = !open;
  }

  function layout() {
    const collapsible = !wide.matches;
    nav.classList.toggle('is-collapsible', collapsible);
    button.hidden = !collapsible;
    button.setAttribute('aria-expanded', 'false');
    list.hidden = collapsible; // folded on phones, always shown on wide screens
  }

  button.addEventListener('click', () => setOpen(button.getAttribute('aria-expanded') !== 'true'));

  nav.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || button.hidden || list.hidden) return;
    event.preventDefault();
    setOpen(false);
    button.focus();
  });

  wide.addEventListener('change', layout);
  layout();
}
