/* The rapporteur's capture page: one tap picks the kind, the text box keeps the focus for the next
   item, quotes get an attribution (one of the session's people, or someone from the floor), photos
   a caption and a credit. Items show newest first; each can be starred "à retenir pour le rapport",
   edited inline (from the version it showed), deleted (with "Annuler"), moved up or down. The work
   itself (device first, queue, sync, live feed) is sync.js's; this module draws.

   User text is only ever set with textContent (never innerHTML). Configuration and texts come from
   data-* attributes of #notes (translated on the server). */

const NEAR_LIMIT = 500;     // the counter shows from this many characters left
const PHOTO_QUALITY = 0.85; // JPEG quality of a photo shrunk on the device before it is queued
const RESIZE_FROM_BYTES = 1500000;

const root = document.getElementById('notes');
if (root) start(root);

async function start(root) {
  const cfg = root.dataset;
  const texts = parse(cfg.texts, {});
  const people = parse(cfg.people, []);
  const kinds = parse(cfg.kinds, []);
  const limits = parse(cfg.limits, {});
  const locale = cfg.locale || document.documentElement.lang || 'fr';
  const T = (key, vars) => fill(key in texts ? texts[key] : key, vars || {});
  const clock = clockFormatter(cfg.timezone, locale);
  const number = (n) => { try { return new Intl.NumberFormat(locale).format(n); } catch (error) { return String(n); } };
  const kindLabel = Object.fromEntries(kinds.map((k) => [k.value, k.label]));
  const textKinds = kinds.map((k) => k.value).filter((k) => k !== 'photo');
  const personById = new Map(people.map((p) => [String(p.id), p]));
  const $ = (selector, scope) => (scope || document).querySelector(selector);
  const $$ = (selector, scope) => Array.from((scope || document).querySelectorAll(selector));

  const els = {
    form: $('[data-capture-form]', root),
    kindButtons: $$('.kind-button[data-kind]', root),
    kindNow: $('[data-kind-now]', root),
    textField: $('[data-text-field]', root),
    text: $('[data-text]', root),
    counter: $('[data-counter]', root),
    keysHint: $('[data-keys-hint]', root),
    attribution: $('[data-attribution]', root),
    who: $$('[data-who]', root),
    floor: $('[data-floor]', root),
    floorName: $('[data-floor-name]', root),
    floorJob: $('[data-floor-job]', root),
    floorOrg: $('[data-floor-org]', root),
    photoFields: $('[data-photo-fields]', root),
    photoInput: $('[data-photo-input]', root),
    photoPreview: $('[data-photo-preview]', root),
    caption: $('[data-caption]', root),
    credit: $('[data-credit]', root),
    message: $('[data-capture-message]', root),
    add: $('[data-add]', root),
    count: $('[data-count]', root),
    empty: $('[data-empty]', root),
    items: $('[data-items]', root),
    net: $('[data-net]'),
    netText: $('[data-net-text]'),
    netLogin: $('[data-net-login]'),
    announce: $('[data-announce]'),
  };
  const draftKey = `forum-notes-draft:${cfg.slug}:${cfg.session}`;
  const draft = loadDraft(draftKey);
  // Inline edits being typed, kept on the device like the main box's draft: {client_id: {text, base, kind?, who?, floor?}}.
  const editsKey = `forum-notes-edits:${cfg.slug}:${cfg.session}`;
  let kind = kindLabel[draft.kind] ? draft.kind : (kinds[0] && kinds[0].value) || 'key_point';
  let previewUrl = null;
  let adding = false;
  root.hidden = false;

  // ---- the engine
  let notes;
  let mergedText;
  try {
    const sync = await import(cfg.syncUrl);
    mergedText = sync.mergedText;
    notes = await sync.openNotes({
      slug: cfg.slug,
      apiBase: cfg.apiBase,
      csrfToken: cfg.csrfToken,
      session: cfg.session,
      pageUrl: location.pathname,
    });
  } catch (error) {
    say(T('error_storage', { message: String((error && error.message) || error) }), true);
    return;
  }
  root.dataset.ready = 'true';

  // ---- the capture form
  const enterAdds = typeof matchMedia === 'function' && matchMedia('(pointer: fine)').matches;
  els.keysHint.hidden = !enterAdds;
  if (draft.text) els.text.value = draft.text;
  setKind(kind, { focus: false });
  updateCounter(els.text, els.counter, limits.text);

  els.kindButtons.forEach((button) => {
    button.addEventListener('click', () => setKind(button.dataset.kind, { focus: true }));
  });
  els.who.forEach((radio) => radio.addEventListener('change', renderWho));
  els.text.addEventListener('input', () => {
    if (els.message.textContent === T('added')) say('');
    updateCounter(els.text, els.counter, limits.text);
    saveDraft();
  });
  els.text.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || !enterAdds) return;
    event.preventDefault();
    els.form.requestSubmit();
  });
  els.photoInput.addEventListener('change', showPreview);
  els.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (adding) return;
    adding = true;
    try {
      if (kind === 'photo') await addPhoto();
      else await addText();
    } finally {
      adding = false;
    }
  });

  function setKind(value, { focus }) {
    kind = value;
    els.kindButtons.forEach((button) => button.setAttribute('aria-pressed', button.dataset.kind === value ? 'true' : 'false'));
    els.kindNow.textContent = `(${kindLabel[value] || value})`;
    const photo = value === 'photo';
    els.textField.hidden = photo;
    els.photoFields.hidden = !photo;
    els.attribution.hidden = value !== 'quote';
    renderWho();
    saveDraft();
    say('');
    if (focus) (photo ? els.photoInput : els.text).focus();
  }

  function renderWho() {
    const chosen = els.who.find((radio) => radio.checked);
    els.floor.hidden = !(chosen && chosen.value === 'floor');
  }

  function saveDraft() {
    try { localStorage.setItem(draftKey, JSON.stringify({ kind, text: els.text.value })); } catch (error) { /* private mode */ }
  }

  /* The attribution chosen in the form: [attribution sent, what to show] or an error message. */
  function chosenAttribution() {
    if (kind !== 'quote') return { attribution: null, display: null };
    const chosen = els.who.find((radio) => radio.checked);
    if (!chosen || !chosen.value) return { attribution: null, display: null };
    if (chosen.value === 'floor') {
      const typed = {
        name: els.floorName.value.trim(),
        job_title: els.floorJob.value.trim(),
        organisation: els.floorOrg.value.trim(),
      };
      if (!typed.name) return { error: T('floor_name_missing'), field: els.floorName };
      return { attribution: typed, display: typed };
    }
    const person = personById.get(chosen.value);
    if (!person) return { attribution: null, display: null };
    return {
      attribution: { person_id: person.id },
      display: { person_id: person.id, name: person.name, job_title: person.job_title, organisation: person.organisation },
    };
  }

  async function addText() {
    const text = els.text.value.trim();
    if (!text) {
      say(T('empty_text'), true);
      els.text.focus();
      return;
    }
    if (!updateCounter(els.text, els.counter, limits.text)) {
      say(els.counter.textContent, true);
      els.text.focus();
      return;
    }
    const chosen = chosenAttribution();
    if (chosen.error) {
      say(chosen.error, true);
      chosen.field.focus();
      return;
    }
    try {
      await notes.add({ kind, text, attribution: chosen.attribution, display: chosen.display });
    } catch (error) {
      say(T('not_stored'), true); // the text stays in the box: nothing is lost
      return;
    }
    els.text.value = '';
    if (chosen.display && !chosen.attribution.person_id) {
      els.floorName.value = '';
      els.floorJob.value = '';
      els.floorOrg.value = '';
    }
    updateCounter(els.text, els.counter, limits.text);
    saveDraft();
    say(T('added'));
    els.text.focus();
  }

  async function addPhoto() {
    const file = els.photoInput.files && els.photoInput.files[0];
    if (!file) {
      say(T('photo_missing'), true);
      els.photoInput.focus();
      return;
    }
    if (file.type && !file.type.startsWith('image/')) {
      say(T('photo_not_image'), true);
      els.photoInput.focus();
      return;
    }
    const caption = els.caption.value.trim();
    if (Array.from(caption).length > limits.caption) {
      say(T('chars_over', { n: number(Array.from(caption).length - limits.caption) }), true);
      els.caption.focus();
      return;
    }
    const blob = await shrink(file, limits.photo_side);
    if (blob.size > limits.upload_bytes) {
      say(T('photo_too_big', { size: number(Math.round(limits.upload_bytes / 1048576)) }), true);
      els.photoInput.focus();
      return;
    }
    try {
      await notes.add({
        kind: 'photo', text: caption, photo: blob, photoName: file.name || 'photo.jpg', credit: els.credit.value.trim(),
      });
    } catch (error) {
      say(T('not_stored'), true);
      return;
    }
    els.photoInput.value = '';
    els.caption.value = '';
    showPreview();
    say(T('added'));
    els.photoInput.focus();
  }

  function showPreview() {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    const file = els.photoInput.files && els.photoInput.files[0];
    els.photoPreview.hidden = !file;
    if (file) {
      previewUrl = URL.createObjectURL(file);
      els.photoPreview.src = previewUrl;
      els.photoPreview.alt = T('photo_preview');
    } else {
      els.photoPreview.removeAttribute('src');
    }
  }

  function say(text, problem = false) {
    els.message.textContent = text || '';
    els.message.classList.toggle('is-problem', Boolean(problem && text));
  }

  function announce(text) {
    els.announce.textContent = '';
    setTimeout(() => { els.announce.textContent = text; }, 50);
  }

  function updateCounter(field, counter, limit) {
    const used = Array.from(field.value.trim()).length;
    const left = limit - used;
    counter.classList.toggle('is-over', left < 0);
    counter.classList.toggle('is-near', left >= 0 && left <= NEAR_LIMIT);
    if (left < 0) {
      counter.textContent = T('chars_over', { n: number(-left) });
      field.setAttribute('aria-invalid', 'true');
    } else {
      counter.textContent = left <= NEAR_LIMIT ? T('chars_left', { n: number(left) }) : '';
      field.removeAttribute('aria-invalid');
    }
    return left >= 0;
  }

  // While the server asks us to wait (429/503), a countdown to the next attempt, redrawn each second
  // by one timer. It is aria-hidden: the status line is a live region, which should not speak every second.
  const countdown = document.createElement('span');
  countdown.className = 'net-countdown';
  countdown.setAttribute('aria-hidden', 'true');
  let busyTicker = 0;
  let retryAt = null;

  // ---- network state
  notes.addEventListener('status', renderStatus);
  notes.addEventListener('changed', scheduleRender);
  notes.addEventListener('conflict', () => announce(T('conflict_title')));
  notes.addEventListener('rejected', (event) => announce(T('rejected', { message: event.detail.message })));
  renderStatus();

  function renderStatus() {
    const state = notes.status();
    const pending = Number(state.pending) || 0;
    const queued = pending ? T(pluralKey(locale, pending, 'pending'), { n: pending }) : T('all_sent');
    const busy = Boolean(state.busy) && !state.authProblem;
    let tone = state.online ? 'net-online' : 'net-offline';
    let text = (state.online ? T('online') : T('offline')) + ' · ' + queued;
    if (state.authProblem) {
      tone = 'net-auth';
      text = T('auth_problem') + (pending ? ' · ' + queued : '');
    }
    if (!state.persistent) text += ' · ' + T('not_persistent');
    if (busy) {
      // The network is fine: the server (rate limit, database busy) asked us to come back shortly.
      tone = 'net-busy';
      retryAt = state.retryAt;
      tickCountdown();
      const rest = queued + (state.persistent ? '' : ' · ' + T('not_persistent'));
      els.netText.replaceChildren(T('busy') + ' · ', countdown, rest);
      if (!busyTicker) busyTicker = setInterval(tickCountdown, 1000);
    } else {
      if (busyTicker) { clearInterval(busyTicker); busyTicker = 0; }
      els.netText.textContent = text;
    }
    els.net.className = 'net-status ' + tone;
    els.net.dataset.online = state.online ? 'true' : 'false';
    els.net.dataset.busy = busy ? 'true' : 'false';
    els.net.dataset.pending = String(pending);
    els.net.dataset.auth = state.authProblem ? 'true' : 'false';
    els.netLogin.hidden = !state.authProblem;
    els.net.hidden = false;
  }

  /* "nouvel essai dans 12 s · ", or "nouvel essai en cours · " once that time has come. */
  function tickCountdown() {
    const seconds = Math.ceil(((Number(retryAt) || 0) - Date.now()) / 1000);
    const text = seconds > 0 ? T('busy_retry_in', { n: seconds }).replace(/(\d) /g, '$1\u00a0') : T('busy_retrying');
    countdown.textContent = text + ' · '; // "3 s" never split over two lines
  }

  // ---- the list
  const entries = new Map(); // client_id -> {li, body, editorSlot, conflictSlot, item, sig, editor, conflictAt, blobUrl}
  let pendingFocus = null;   // {client_id, action} to focus once drawn
  let rendering = null;
  let renderAgain = false;
  let uid = 0;

  function scheduleRender() {
    if (rendering) { renderAgain = true; return rendering; }
    rendering = (async () => {
      do {
        renderAgain = false;
        try { await renderNow(); } catch (error) { /* drawn next time */ }
      } while (renderAgain);
      rendering = null;
    })();
    return rendering;
  }

  async function renderNow() {
    const items = await notes.view();
    const active = document.activeElement;
    const selection = active && typeof active.selectionStart === 'number'
      ? [active.selectionStart, active.selectionEnd] : null;
    const visible = items.filter((item) => !item.deleted);
    const seen = new Set();
    const wanted = [];
    for (const item of items) {
      seen.add(item.client_id);
      let entry = entries.get(item.client_id);
      if (!entry) {
        entry = createEntry(item);
        entries.set(item.client_id, entry);
      }
      const place = visible.indexOf(item);
      drawEntry(entry, item, { first: place === 0, last: place === visible.length - 1 });
      wanted.push(entry.li);
    }
    for (const [clientId, entry] of entries) {
      if (seen.has(clientId)) continue;
      entry.li.remove();
      if (entry.blobUrl) URL.revokeObjectURL(entry.blobUrl);
      entries.delete(clientId);
    }
    wanted.forEach((li, index) => {
      const current = els.items.children[index];
      if (current !== li) els.items.insertBefore(li, current || null);
    });
    // Moving a list item takes the focus away from what it holds: give it back, selection included.
    if (active && active !== document.body && document.activeElement !== active && document.contains(active)) {
      active.focus({ preventScroll: true });
      if (selection) { try { active.setSelectionRange(selection[0], selection[1]); } catch (error) { /* not a text field */ } }
    }
    if (pendingFocus) {
      const entry = entries.get(pendingFocus.client_id);
      const target = entry && entry.li.querySelector(`[data-action="${pendingFocus.action}"]`);
      if (target) target.focus();
      pendingFocus = null;
    }
    const count = visible.length;
    els.count.textContent = `(${T(pluralKey(locale, count, 'count'), { n: number(count) })})`;
    els.empty.hidden = items.length > 0;
  }

  function createEntry(item) {
    const li = h('li', { class: 'item' });
    li.dataset.clientId = item.client_id;
    const body = h('div', { class: 'item-body' });
    const editorSlot = h('div', { class: 'item-editor' });
    const conflictSlot = h('div', { class: 'item-conflict' });
    li.append(body, editorSlot, conflictSlot);
    uid += 1;
    return { li, body, editorSlot, conflictSlot, item, sig: '', editor: null, conflictAt: null, blobUrl: null, textId: `item-text-${uid}` };
  }

  function drawEntry(entry, item, place) {
    entry.item = item;
    const sig = JSON.stringify([
      item.kind, item.text, item.attribution, item.photo && item.photo.url, item.photo && item.photo.credit,
      Boolean(item.photoBlob), item.captured_at, item.highlighted, item.deleted, item.pending,
      item.error && item.error.message, Boolean(item.conflict), place.first, place.last, Boolean(entry.editor),
    ]);
    entry.li.classList.toggle('is-pending', item.pending);
    entry.li.classList.toggle('is-deleted', item.deleted);
    entry.li.classList.toggle('is-highlighted', item.highlighted && !item.deleted);
    entry.li.classList.toggle('has-conflict', Boolean(item.conflict));
    entry.li.classList.toggle('has-error', Boolean(item.error));
    entry.li.dataset.itemKind = item.kind;
    entry.li.dataset.pending = item.pending ? 'true' : 'false';
    if (item.id) entry.li.dataset.id = String(item.id);
    if (sig !== entry.sig) {
      entry.sig = sig;
      const focused = entry.body.contains(document.activeElement) ? document.activeElement.dataset.action : null;
      entry.body.replaceChildren(...(item.deleted ? deletedBody(item) : itemBody(entry, item, place)));
      if (focused && !pendingFocus) pendingFocus = { client_id: item.client_id, action: focused };
    }
    drawConflict(entry, item);
  }

  function itemBody(entry, item, place) {
    const parts = [];
    const meta = h('p', { class: 'item-meta' },
      h('span', { class: 'item-time' }, clock(item.captured_at)),
      h('span', { class: `item-kind kind-${item.kind}` }, kindLabel[item.kind] || item.kind));
    if (item.pending) meta.append(h('span', { class: 'item-mark mark-pending', title: T('pending_mark_long') }, h('span', { 'aria-hidden': 'true' }, '↻ '), T('pending_mark')));
    if (item.conflict) meta.append(h('span', { class: 'item-mark mark-conflict' }, T('conflict_mark')));
    if (item.highlighted) meta.append(h('span', { class: 'item-mark mark-star' }, h('span', { 'aria-hidden': 'true' }, '★ '), T('highlighted_mark')));
    parts.push(meta);
    parts.push(h('button', {
      type: 'button', class: 'item-star', 'data-action': 'highlight', 'aria-pressed': item.highlighted ? 'true' : 'false',
      title: T('highlight'),
    }, h('span', { class: 'visually-hidden' }, T('highlight'))));

    if (item.kind === 'photo') {
      const src = photoSource(entry, item);
      const figure = h('figure', { class: 'item-photo' });
      if (src) {
        const img = h('img', { src, alt: item.text ? T('photo_alt', { caption: item.text }) : T('photo_alt_plain'), loading: 'lazy' });
        if (item.photo && item.photo.width && item.photo.height) { img.width = item.photo.width; img.height = item.photo.height; }
        figure.append(img);
      }
      if (item.text) figure.append(h('figcaption', { class: 'item-text', id: entry.textId }, item.text));
      parts.push(figure);
      if (item.photo && item.photo.credit) parts.push(h('p', { class: 'item-credit' }, T('credit', { credit: item.photo.credit })));
    } else {
      parts.push(h('p', { class: 'item-text', id: entry.textId }, item.text));
    }
    if (item.attribution && item.attribution.name) {
      const line = [item.attribution.name, item.attribution.job_title, item.attribution.organisation].filter(Boolean).join(', ');
      parts.push(h('p', { class: 'item-attribution' }, line));
    }
    if (item.error) {
      parts.push(h('p', { class: 'item-error', role: 'note' }, T('rejected', { message: item.error.message }), ' ', T('rejected_fix')));
    }
    const actions = h('div', { class: 'item-actions' });
    if (!item.conflict) actions.append(h('button', { type: 'button', class: 'item-button', 'data-action': 'edit' }, T('edit')));
    if (item.error) {
      actions.append(h('button', { type: 'button', class: 'item-button item-button-danger', 'data-action': 'drop' }, T('drop')));
    } else {
      actions.append(h('button', { type: 'button', class: 'item-button', 'data-action': 'delete' }, T('delete')));
    }
    actions.append(
      h('button', { type: 'button', class: 'item-button item-move', 'data-action': 'up', title: T('move_up_label'), disabled: place.first ? '' : null },
        h('span', { 'aria-hidden': 'true' }, '↑'), h('span', { class: 'visually-hidden' }, T('move_up'))),
      h('button', { type: 'button', class: 'item-button item-move', 'data-action': 'down', title: T('move_down_label'), disabled: place.last ? '' : null },
        h('span', { 'aria-hidden': 'true' }, '↓'), h('span', { class: 'visually-hidden' }, T('move_down'))),
    );
    parts.push(actions);
    // Each button says which item it acts on (its text), for screen readers going from button to button.
    if (item.text) {
      parts.forEach((part) => part.querySelectorAll && part.querySelectorAll('button').forEach((b) => b.setAttribute('aria-describedby', entry.textId)));
      parts.filter((part) => part.tagName === 'BUTTON').forEach((b) => b.setAttribute('aria-describedby', entry.textId));
    }
    return parts;
  }

  function deletedBody(item) {
    const excerpt = Array.from(item.text || '').slice(0, 60).join('') + (Array.from(item.text || '').length > 60 ? '…' : '');
    return [h('p', { class: 'item-deleted-line' },
      h('span', { class: 'item-deleted-text' }, T('deleted')),
      excerpt ? h('span', { class: 'item-excerpt' }, `« ${excerpt} »`) : '',
      item.pending ? h('span', { class: 'item-mark mark-pending' }, h('span', { 'aria-hidden': 'true' }, '↻ '), T('pending_mark')) : '',
      h('button', { type: 'button', class: 'item-button', 'data-action': 'restore', 'aria-label': T('restore_label') }, T('restore')))];
  }

  function photoSource(entry, item) {
    if (item.photo && item.photo.url) {
      if (entry.blobUrl) { URL.revokeObjectURL(entry.blobUrl); entry.blobUrl = null; } // sent: the server's copy now
      return item.photo.url;
    }
    if (item.photoBlob) {
      if (!entry.blobUrl) entry.blobUrl = URL.createObjectURL(item.photoBlob);
      return entry.blobUrl;
    }
    return null;
  }

  // ---- what the buttons of an item do
  els.items.addEventListener('click', async (event) => {
    const button = event.target.closest('[data-action]');
    if (!button || !els.items.contains(button) || button.disabled) return;
    const li = button.closest('li.item');
    const entry = li && entries.get(li.dataset.clientId);
    if (!entry) return;
    const item = entry.item;
    const id = item.client_id;
    const action = button.dataset.action;
    try {
      if (action === 'highlight') {
        pendingFocus = { client_id: id, action: 'highlight' };
        await notes.setFlags(id, { highlighted: !item.highlighted });
      } else if (action === 'delete') {
        closeEditor(entry);
        pendingFocus = { client_id: id, action: 'restore' };
        await notes.setFlags(id, { deleted: true });
        announce(T('deleted'));
      } else if (action === 'restore') {
        pendingFocus = { client_id: id, action: 'delete' };
        await notes.setFlags(id, { deleted: false });
      } else if (action === 'up' || action === 'down') {
        pendingFocus = { client_id: id, action };
        await notes.move(id, action === 'up' ? -1 : 1);
      } else if (action === 'edit') {
        openEditor(entry);
      } else if (action === 'drop') {
        if (window.confirm(T('drop_confirm'))) await notes.dropRejected(item.error.seq);
      } else if (action === 'edit-cancel') {
        closeEditor(entry);
        pendingFocus = { client_id: id, action: 'edit' };
        scheduleRender();
      } else if (action === 'keep-mine') {
        await notes.keepMine(id);
        els.text.focus();
      } else if (action === 'keep-theirs') {
        await notes.keepTheirs(id);
        els.text.focus();
      } else if (action === 'merge') {
        openMerge(entry);
      } else if (action === 'merge-cancel') {
        const box = entry.conflictSlot.querySelector('[data-merge-box]');
        if (box) box.hidden = true;
        const merge = entry.conflictSlot.querySelector('[data-action="merge"]');
        if (merge) merge.focus();
      } else if (action === 'merge-save') {
        await saveMerge(entry);
      }
    } catch (error) {
      say(T('not_stored'), true);
    }
  });

  // ---- inline edit (from the version the item showed when it was opened)
  /* `kept`: a draft of this editor kept on the device (a reload while it was open). */
  function openEditor(entry, kept = null) {
    if (entry.editor) { entry.editor.text.focus(); return; }
    const item = entry.item;
    uid += 1;
    const n = uid;
    const photo = item.kind === 'photo';
    const limit = photo ? limits.caption : limits.text;
    const form = h('form', { class: 'item-edit', novalidate: '' });
    const title = h('p', { class: 'item-edit-title' }, T('edit_title'));
    form.append(title);
    let kindSelect = null;
    if (!photo) {
      kindSelect = h('select', { id: `edit-kind-${n}` }, ...textKinds.map((value) => h('option', { value }, kindLabel[value])));
      kindSelect.value = kept && textKinds.includes(kept.kind) ? kept.kind : item.kind;
      form.append(h('div', { class: 'form-field' }, h('label', { for: `edit-kind-${n}` }, T('edit_kind')), kindSelect));
    }
    const text = h('textarea', { id: `edit-text-${n}`, rows: '4', 'aria-describedby': `edit-counter-${n}` });
    text.value = kept && typeof kept.text === 'string' ? kept.text : (item.text || '');
    const counter = h('p', { class: 'counter', id: `edit-counter-${n}` });
    form.append(h('div', { class: 'form-field' }, h('label', { for: `edit-text-${n}` }, photo ? T('edit_caption') : T('edit_text')), text, counter));

    // Attribution (quotes): one of the session's people, someone from the floor, or nobody.
    const who = h('select', { id: `edit-who-${n}` },
      h('option', { value: '' }, T('nobody_option')),
      ...people.map((p) => h('option', { value: String(p.id) }, [p.name, p.job_title, p.organisation].filter(Boolean).join(', '))),
      h('option', { value: 'floor' }, T('floor_option')));
    const floorName = h('input', { type: 'text', id: `edit-name-${n}`, maxlength: String(limits.name || 200) });
    const floorJob = h('input', { type: 'text', id: `edit-job-${n}`, maxlength: String(limits.job_title || 300) });
    const floorOrg = h('input', { type: 'text', id: `edit-org-${n}`, maxlength: String(limits.organisation || 300) });
    const floor = h('div', { class: 'floor-fields' },
      h('div', { class: 'form-field' }, h('label', { for: floorName.id }, T('attribution_name')), floorName),
      h('div', { class: 'form-field' }, h('label', { for: floorJob.id }, T('attribution_job_title')), floorJob),
      h('div', { class: 'form-field' }, h('label', { for: floorOrg.id }, T('attribution_organisation')), floorOrg));
    const whoField = h('div', { class: 'form-field' }, h('label', { for: who.id }, T('attribution')), who);
    const attribution = h('div', { class: 'item-edit-attribution' }, whoField, floor);
    const a = item.attribution;
    if (a && a.person_id && personById.has(String(a.person_id))) who.value = String(a.person_id);
    else if (a && a.name) { who.value = 'floor'; floorName.value = a.name || ''; floorJob.value = a.job_title || ''; floorOrg.value = a.organisation || ''; } else who.value = '';
    if (kept && typeof kept.who === 'string' && (kept.who === '' || kept.who === 'floor' || personById.has(kept.who))) {
      who.value = kept.who;
      const f = kept.floor || {};
      floorName.value = f.name || '';
      floorJob.value = f.job_title || '';
      floorOrg.value = f.organisation || '';
    }
    const showAttribution = () => {
      const quote = (kindSelect ? kindSelect.value : item.kind) === 'quote';
      attribution.hidden = !quote;
      floor.hidden = who.value !== 'floor';
    };
    who.addEventListener('change', showAttribution);
    if (kindSelect) kindSelect.addEventListener('change', showAttribution);
    if (!photo) form.append(attribution);
    showAttribution();

    const base = kept && Number(kept.base) > 0 ? Number(kept.base) : (item.version || 1);
    const keep = () => saveEditDraft(item.client_id, {
      text: text.value, base, kind: kindSelect ? kindSelect.value : item.kind, who: who.value,
      floor: { name: floorName.value, job_title: floorJob.value, organisation: floorOrg.value },
    });
    [text, floorName, floorJob, floorOrg].forEach((field) => field.addEventListener('input', keep));
    [who, kindSelect].forEach((field) => field && field.addEventListener('change', keep));
    if (item.id) form.append(h('p', { class: 'hint' }, T('edit_from_version', { version: base })));
    const problem = h('p', { class: 'item-edit-problem', role: 'status' });
    form.append(problem, h('div', { class: 'item-edit-actions' },
      h('button', { type: 'submit', class: 'button' }, T('save')),
      h('button', { type: 'button', class: 'button button-secondary', 'data-action': 'edit-cancel' }, T('cancel'))));
    text.addEventListener('input', () => updateCounter(text, counter, limit));
    text.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { event.preventDefault(); closeEditor(entry); pendingFocus = { client_id: item.client_id, action: 'edit' }; scheduleRender(); }
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && enterAdds) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = text.value.trim();
      if (!value && !photo) { problem.textContent = T('empty_text'); text.focus(); return; }
      if (!updateCounter(text, counter, limit)) { problem.textContent = counter.textContent; text.focus(); return; }
      const changes = {};
      const display = {};
      if (value !== (item.text || '')) changes.text = value;
      const newKind = kindSelect ? kindSelect.value : item.kind;
      if (newKind !== item.kind) changes.kind = newKind;
      if (newKind === 'quote') {
        let chosen = null;
        let shown = null;
        if (who.value === 'floor') {
          chosen = { name: floorName.value.trim(), job_title: floorJob.value.trim(), organisation: floorOrg.value.trim() };
          if (!chosen.name) { problem.textContent = T('floor_name_missing'); floorName.focus(); return; }
          shown = chosen;
        } else if (who.value) {
          const p = personById.get(who.value);
          chosen = { person_id: p.id };
          shown = { person_id: p.id, name: p.name, job_title: p.job_title, organisation: p.organisation };
        }
        if (!sameAttribution(chosen, shown, item.attribution)) { changes.attribution = chosen; display.attribution = shown; }
      }
      try {
        if (item.error) await notes.fixRejected(item.error.seq, changes, display);
        else if (Object.keys(changes).length) await notes.edit(item.client_id, changes, base, display);
      } catch (error) {
        problem.textContent = T('not_stored');
        return;
      }
      closeEditor(entry);
      pendingFocus = { client_id: item.client_id, action: 'edit' };
      scheduleRender();
    });
    entry.editor = { form, text, base };
    entry.editorSlot.replaceChildren(form);
    entry.li.classList.add('is-editing');
    updateCounter(text, counter, limit);
    text.focus();
    entry.sig = ''; // redraw the body without its actions
    scheduleRender();
  }

  function closeEditor(entry) {
    if (!entry.editor) return;
    clearEditDraft(entry.item.client_id); // saved, cancelled or deleted: nothing left to keep
    entry.editor = null;
    entry.editorSlot.replaceChildren();
    entry.li.classList.remove('is-editing');
    entry.sig = '';
  }

  function loadEditDrafts() {
    const kept = loadDraft(editsKey);
    return kept && typeof kept === 'object' && !Array.isArray(kept) ? kept : {};
  }

  function saveEditDraft(clientId, data) {
    try {
      const kept = loadEditDrafts();
      kept[clientId] = data;
      localStorage.setItem(editsKey, JSON.stringify(kept));
    } catch (error) { /* private mode */ }
  }

  function clearEditDraft(clientId) {
    try {
      const kept = loadEditDrafts();
      if (!(clientId in kept)) return;
      delete kept[clientId];
      if (Object.keys(kept).length) localStorage.setItem(editsKey, JSON.stringify(kept));
      else localStorage.removeItem(editsKey);
    } catch (error) { /* private mode */ }
  }

  /* After a reload: open again each editor that was open, with what was typed in it and the version
     it started from (an item not on this device, or deleted, keeps its draft for later). */
  function reopenEditors() {
    for (const [clientId, kept] of Object.entries(loadEditDrafts())) {
      const entry = entries.get(clientId);
      if (!entry || entry.editor || entry.item.deleted || !kept || typeof kept !== 'object') continue;
      openEditor(entry, kept);
    }
  }

  function sameAttribution(chosen, shown, current) {
    if (!chosen) return !(current && current.name);
    if (!current || !current.name) return false;
    if (chosen.person_id) return current.person_id === chosen.person_id;
    return !current.person_id && current.name === shown.name
      && (current.job_title || '') === shown.job_title && (current.organisation || '') === shown.organisation;
  }

  // ---- a conflict: keep mine, keep theirs, or merge (the rapporteur's text is never dropped unasked)
  function drawConflict(entry, item) {
    const conflict = item.conflict;
    if (!conflict) {
      if (entry.conflictAt !== null) { entry.conflictSlot.replaceChildren(); entry.conflictAt = null; }
      return;
    }
    if (entry.conflictAt === conflict.at) return; // drawn already (the merge box may be open)
    entry.conflictAt = conflict.at;
    uid += 1;
    const n = uid;
    const current = conflict.current || {};
    const mine = 'text' in (conflict.mine || {}) ? conflict.mine.text : item.text;
    const line = (a) => (a && a.name ? [a.name, a.job_title, a.organisation].filter(Boolean).join(', ') : '');
    const mineAttribution = 'attribution' in (conflict.mine || {}) ? line(item.attribution) : line(current.attribution);
    const version = (title, text, attribution, cls) => h('div', { class: `conflict-version ${cls}` },
      h('h4', {}, title),
      h('p', { class: 'conflict-text' }, text || ''),
      attribution ? h('p', { class: 'item-attribution' }, attribution) : '');
    const textarea = h('textarea', { id: `merge-text-${n}`, rows: '6', 'aria-describedby': `merge-counter-${n}`, 'data-merge-text': '' });
    const counter = h('p', { class: 'counter', id: `merge-counter-${n}` });
    textarea.addEventListener('input', () => updateCounter(textarea, counter, item.kind === 'photo' ? limits.caption : limits.text));
    const panel = h('section', { class: 'conflict', 'aria-labelledby': `conflict-title-${n}`, 'data-conflict': '' },
      h('h3', { class: 'conflict-title', id: `conflict-title-${n}` }, T('conflict_title')),
      h('p', {}, T('conflict_intro', { version: current.version })),
      h('div', { class: 'conflict-versions' },
        version(T('conflict_mine'), mine, mineAttribution, 'conflict-mine'),
        version(T('conflict_theirs'), current.text, line(current.attribution), 'conflict-theirs')),
      h('div', { class: 'conflict-actions' },
        h('button', { type: 'button', class: 'button', 'data-action': 'keep-mine' }, T('keep_mine')),
        h('button', { type: 'button', class: 'button button-secondary', 'data-action': 'keep-theirs' }, T('keep_theirs')),
        h('button', { type: 'button', class: 'button button-secondary', 'data-action': 'merge' }, T('merge'))),
      h('div', { class: 'merge-box', 'data-merge-box': '', hidden: '' },
        h('div', { class: 'form-field' }, h('label', { for: textarea.id }, T('merge_label')), textarea, counter),
        h('div', { class: 'conflict-actions' },
          h('button', { type: 'button', class: 'button', 'data-action': 'merge-save' }, T('merge_save')),
          h('button', { type: 'button', class: 'button button-secondary', 'data-action': 'merge-cancel' }, T('cancel')))));
    panel.dataset.mine = mine || '';
    panel.dataset.theirs = current.text || '';
    entry.conflictSlot.replaceChildren(panel);
  }

  function openMerge(entry) {
    const panel = entry.conflictSlot.querySelector('[data-conflict]');
    if (!panel) return;
    const box = panel.querySelector('[data-merge-box]');
    const textarea = panel.querySelector('[data-merge-text]');
    if (box.hidden) {
      if (!textarea.value) textarea.value = mergedText(panel.dataset.theirs, panel.dataset.mine);
      box.hidden = false;
    }
    textarea.dispatchEvent(new Event('input'));
    textarea.focus();
  }

  async function saveMerge(entry) {
    const panel = entry.conflictSlot.querySelector('[data-conflict]');
    if (!panel) return;
    const textarea = panel.querySelector('[data-merge-text]');
    const counter = textarea.parentElement.querySelector('.counter');
    const value = textarea.value.trim();
    const limit = entry.item.kind === 'photo' ? limits.caption : limits.text;
    if ((!value && entry.item.kind !== 'photo') || !updateCounter(textarea, counter, limit)) {
      if (!value) counter.textContent = T('empty_text');
      textarea.focus();
      return;
    }
    await notes.merge(entry.item.client_id, value);
    pendingFocus = { client_id: entry.item.client_id, action: 'edit' };
  }

  await scheduleRender();
  reopenEditors();
  await scheduleRender();
  if (document.activeElement === document.body || !document.activeElement) {
    if (kind === 'photo') els.photoInput.focus({ preventScroll: true });
    else els.text.focus({ preventScroll: true });
  }
  root.dataset.drawn = 'true';
}

// ------------------------------------------------------------------ helpers

/* An element with attributes (null/undefined skipped) and children (strings become text nodes). */
function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === '') continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

function parse(json, fallback) {
  try { return JSON.parse(json || ''); } catch (error) { return fallback; }
}

function loadDraft(key) {
  try { return JSON.parse(localStorage.getItem(key) || '{}') || {}; } catch (error) { return {}; }
}

function fill(text, vars) {
  return String(text).replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

function pluralKey(locale, count, prefix) {
  try {
    return `${prefix}_${new Intl.PluralRules(locale).select(count) === 'one' ? 'one' : 'other'}`;
  } catch (error) {
    return `${prefix}_${count === 1 ? 'one' : 'other'}`;
  }
}

/* "14 h 15" in French (the typographic rule the server uses), "14:15" in English, at the event's time zone. */
function clockFormatter(timeZone, locale) {
  let format;
  try {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: timeZone || undefined, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  } catch (error) {
    format = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  }
  const french = String(locale).toLowerCase().startsWith('fr');
  return (value) => {
    if (value === null || value === undefined || value === '') return '';
    const moment = value instanceof Date ? value : new Date(value);
    if (Number.isNaN(moment.getTime())) return '';
    const parts = {};
    for (const part of format.formatToParts(moment)) parts[part.type] = part.value;
    const hour = parseInt(parts.hour, 10) % 24;
    return french ? `${hour} h ${parts.minute}` : `${String(hour).padStart(2, '0')}:${parts.minute}`;
  };
}

/* A photo reduced on the device (longest side `maxSide`, JPEG) before it is queued: less to keep
   and to send on a weak network. The server resizes and strips metadata anyway; any trouble here
   keeps the original file. */
async function shrink(file, maxSide) {
  if (typeof createImageBitmap !== 'function' || typeof document === 'undefined') return file;
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.size <= RESIZE_FROM_BYTES) { bitmap.close(); return file; }
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', PHOTO_QUALITY));
    return blob && blob.size < file.size ? blob : file;
  } catch (error) {
    return file;
  }
}
