/* The capture page's engine: items are written on the device first (store.js), then sent with
   their client_id; the session's list follows the server's change feed. The page (capture.js)
   draws; this module talks to the server and to IndexedDB.

   const notes = await openNotes({slug, apiBase: "/api/v1/e/<slug>", csrfToken, session: "A1",
                                  pageUrl?: the page to re-read for a fresh CSRF token,
                                  offlineUrls?: more files to keep for offline use})
   notes.add({kind, text, attribution, display, highlighted, photo, photoName, credit}) -> client_id
   notes.edit(clientId, changes, baseVersion, display)  changes: {kind?, text?, attribution?}
   notes.setFlags(clientId, {highlighted?, deleted?})
   notes.move(clientId, direction)                      -1 up, +1 down (the order endpoint)
   notes.keepMine(clientId), notes.keepTheirs(clientId), notes.merge(clientId, text)
   notes.fixRejected(seq, changes, display), notes.dropRejected(seq)
   notes.view() -> Promise<[ViewItem]> (this session, top first)
   notes.status() -> {online, busy, retryAt, pending, authProblem, persistent, syncing}
     busy: the server answered 429 or 503 (there, but asking us to wait): true until an answer that
     is not one of those (a feed answer only once nothing waits to be sent) or a network failure;
     retryAt: when the next attempt goes (ms since the epoch, never before Retry-After), else null.
   events: "status" (status() changed), "changed" (the list may have changed),
           "conflict" (detail {client_id}), "rejected" (detail {client_id, message})

   Sending: oldest first, one at a time; an op that cannot go now (server trouble) holds back only
   the later ops of the same item. Retries back off (2 s, 4 s, 8 s... 60 s) and start again at once
   on the `online` event. A 401 (or a CSRF refusal) keeps everything and raises `authProblem`;
   the feed is polled every 4 s meanwhile, and once it answers again (logged in again, in another
   tab) the page's CSRF token is re-read and the queue goes. Ids: crypto.randomUUID(). */

import { isBusyAnswer, retryAfterMs } from '../net/retry.js';
import { openStore } from './store.js';

const POLL_MS = 4000;
const REQUEST_TIMEOUT_MS = 15000;
const PHOTO_TIMEOUT_MS = 120000;
const BACKOFF_FIRST_MS = 2000;
const BACKOFF_MAX_MS = 60000;

class NetworkError extends Error {}

/* What waits to be sent: one per item with queued ops (created, edited, starred, deleted...), and
   one per queued reorder (its ops are keyed "order:<session>", so a run of moves counts once). */
function pendingCount(ops) {
  return new Set(ops.map((op) => op.client_id)).size;
}

export async function openNotes(config) {
  const notes = new Notes(config);
  await notes._start();
  return notes;
}

/* A v4 UUID: crypto.randomUUID() where the browser has it (secure contexts), else random bytes. */
export function newClientId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const h = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/* "2019-06-06T14:15:00.123+02:00": the device's local time with its offset. */
export function isoWithOffset(date = new Date()) {
  const pad = (n, width = 2) => String(Math.abs(n)).padStart(width, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/* Two texts in one, as the server merges duplicates: the first, then what the second adds. */
export function mergedText(first, second) {
  const a = String(first || '').trim();
  const b = String(second || '').trim();
  if (!b || a.includes(b)) return a;
  if (!a || b.includes(a)) return b;
  return `${a}\n\n${b}`;
}

function sameAttribution(a, b) {
  const norm = (x) => (x && x.name ? [x.name || '', x.job_title || '', x.organisation || ''].join('|') : '');
  return norm(a) === norm(b);
}

/* Does the server's item already say what this edit wanted (a retried edit whose answer was lost)? */
function alreadySays(current, changes) {
  if (!current) return false;
  if ('text' in changes && String(changes.text).trim() !== current.text) return false;
  if ('kind' in changes && changes.kind !== current.kind) return false;
  if ('attribution' in changes) {
    const wanted = changes.attribution;
    if (wanted && wanted.person_id && current.attribution) {
      if (current.attribution.person_id !== wanted.person_id) return false;
    } else if (!sameAttribution(wanted, current.attribution)) {
      return false;
    }
  }
  return true;
}

class Notes extends EventTarget {
  constructor(config) {
    super();
    this.slug = config.slug;
    this.apiBase = (config.apiBase || `/api/v1/e/${config.slug}`).replace(/\/+$/, '');
    this.csrfToken = config.csrfToken || '';
    this.session = config.session;
    this.pageUrl = config.pageUrl || (typeof location !== 'undefined' ? location.pathname : '');
    this._offlineUrls = Array.isArray(config.offlineUrls) ? config.offlineUrls : [];

    this._store = null;
    this._pending = 0;
    this._queued = 0;
    this._reachable = true;
    this._busy = false; // the last answer was 429/503
    this._nextTryAt = 0; // when the scheduled sync goes
    this._authProblem = false;
    this._syncing = false;
    this._syncTimer = null;
    this._pollTimer = null;
    this._polling = null;
    this._backoff = BACKOFF_FIRST_MS;
    this._cursor = null;
    this._etag = null;
    this._channel = null;
    this._lastStatus = '';
    this._closed = false;
    this._onOnline = () => { this._reachable = true; this._busy = false; this._backoff = BACKOFF_FIRST_MS; this._emitStatus(); this._kick(0); this.poll(); };
    this._onOffline = () => { this._emitStatus(); };
  }

  // ------------------------------------------------------------------ lifecycle

  async _start() {
    this._store = await openStore(this.slug);
    this._cursor = (await this._store.getMeta('cursor:' + this.session).catch(() => null)) || null;
    this._etag = (await this._store.getMeta('etag:' + this.session).catch(() => null)) || null;
    await this._countPending();
    window.addEventListener('online', this._onOnline);
    window.addEventListener('offline', this._onOffline);
    if (typeof BroadcastChannel === 'function') {
      // Other tabs of this event on this device share the queue: their changes are ours to draw.
      this._channel = new BroadcastChannel('forum-notes:' + this.slug);
      this._channel.onmessage = () => {
        this._countPending().then(() => { this._emitStatus(); this._changed(); });
      };
    }
    this._emitStatus();
    this._schedulePoll(0);
    if (this._navigatorOnline()) {
      if (this._queued) this._kick(0);
      this.keepOffline(this._offlineUrls);
    }
  }

  close() {
    this._closed = true;
    window.removeEventListener('online', this._onOnline);
    window.removeEventListener('offline', this._onOffline);
    clearTimeout(this._syncTimer);
    clearTimeout(this._pollTimer);
    if (this._channel) this._channel.close();
  }

  /* Ask the service worker to keep this page and the files it loaded, so that a reload without
     network still opens it (the worker may not have seen this first visit's requests). */
  keepOffline(extra = []) {
    if (typeof navigator === 'undefined' || !navigator.serviceWorker || !this._navigatorOnline()) return;
    const urls = new Set([
      location.pathname,
      import.meta.url,
      new URL('./store.js', import.meta.url).href,
      new URL('../net/retry.js', import.meta.url).href,
    ]);
    const staticRoot = location.origin + '/static/';
    if (typeof performance !== 'undefined' && performance.getEntriesByType) {
      performance.getEntriesByType('resource').forEach((entry) => {
        if (entry.name.startsWith(staticRoot)) urls.add(entry.name);
      });
    }
    (extra || []).forEach((url) => { if (url) urls.add(new URL(url, location.href).href); });
    navigator.serviceWorker.ready
      .then((registration) => {
        if (registration.active) registration.active.postMessage({ type: 'keep-page', urls: Array.from(urls) });
      })
      .catch(() => {});
  }

  // ------------------------------------------------------------------ status

  _navigatorOnline() {
    return typeof navigator === 'undefined' || navigator.onLine !== false;
  }

  _online() {
    return this._navigatorOnline() && this._reachable;
  }

  status() {
    const busy = this._busy && this._navigatorOnline();
    return {
      online: this._online(),
      busy,
      retryAt: busy ? Math.max(this._notBefore || 0, this._queued ? this._nextTryAt || 0 : 0) || null : null,
      pending: this._pending,
      authProblem: this._authProblem,
      persistent: Boolean(this._store && this._store.persistent),
      syncing: this._syncing,
    };
  }

  _emitStatus() {
    const status = this.status();
    const key = JSON.stringify(status);
    if (key === this._lastStatus) return;
    this._lastStatus = key;
    this.dispatchEvent(new CustomEvent('status', { detail: status }));
  }

  _changed() {
    this.dispatchEvent(new CustomEvent('changed'));
  }

  _tellOtherTabs() {
    if (this._channel) this._channel.postMessage('changed');
  }

  /* An answer (reachable) or a network failure (not): either way the server is not "busy". */
  _setReachable(reachable) {
    this._reachable = reachable;
    this._busy = false;
    this._emitStatus();
  }

  /* Items with something waiting to be sent (an item created then starred counts once; a pending
     reorder of the list counts as one). */
  async _countPending() {
    const ops = await this._store.ops().catch(() => null);
    if (ops) {
      this._queued = ops.length;
      this._pending = pendingCount(ops);
    }
    return this._pending;
  }

  // ------------------------------------------------------------------ writing (device first)

  async add({ kind, text, attribution = null, display = null, highlighted = false, photo = null, photoName = '', credit = '' }) {
    const clientId = newClientId();
    const body = { client_id: clientId, kind, text, captured_at: isoWithOffset(new Date()), highlighted: Boolean(highlighted) };
    if (attribution) body.attribution = attribution;
    const top = (await this.view()).reduce((max, item) => Math.max(max, Number(item.position) || 0), 0);
    const op = {
      client_id: clientId,
      session: this.session,
      body,
      display: { attribution: display },
      position: top + 1,
      created_at: Date.now(),
    };
    if (photo) {
      op.photo = photo;
      op.photo_name = photoName || 'photo.jpg';
      op.credit = credit || '';
    }
    await this._store.addCreate(op); // throws when the device refuses: the page keeps the text
    await this._afterLocalChange();
    return clientId;
  }

  async edit(clientId, changes, baseVersion, display = {}) {
    await this._store.addChange('edit', clientId, this.session, {
      changes, display, base_version: Math.max(1, Number(baseVersion) || 1),
    });
    await this._afterLocalChange();
  }

  async setFlags(clientId, changes) {
    await this._store.addChange('flags', clientId, this.session, { changes });
    await this._afterLocalChange();
  }

  /* Swap an item with its neighbour (direction -1: up, +1: down) among the items not deleted. */
  async move(clientId, direction) {
    const visible = (await this.view()).filter((item) => !item.deleted);
    const index = visible.findIndex((item) => item.client_id === clientId);
    const other = visible[index + direction];
    if (index < 0 || !other) return false;
    const mine = visible[index];
    let [a, b] = [Number(mine.position) || 0, Number(other.position) || 0];
    if (a === b) { a += direction < 0 ? 1 : -1; }
    await this._store.addChange('order', 'order:' + this.session, this.session, {
      positions: { [mine.client_id]: b, [other.client_id]: a },
    });
    await this._afterLocalChange();
    return true;
  }

  async keepMine(clientId) {
    const conflict = (await this._store.conflicts()).find((c) => c.client_id === clientId);
    if (!conflict) return;
    await this._store.resolveConflict(clientId, {
      changes: conflict.mine, display: conflict.display, base_version: conflict.current.version,
    });
    await this._afterLocalChange();
  }

  async keepTheirs(clientId) {
    await this._store.resolveConflict(clientId, null);
    await this._afterLocalChange();
  }

  async merge(clientId, text) {
    const conflict = (await this._store.conflicts()).find((c) => c.client_id === clientId);
    if (!conflict) return;
    const changes = { ...conflict.mine, text };
    await this._store.resolveConflict(clientId, {
      changes, display: conflict.display, base_version: conflict.current.version,
    });
    await this._afterLocalChange();
  }

  /* A refused op, fixed by the rapporteur: a creation with its new text/attribution, or an edit. */
  async fixRejected(seq, changes, display = {}) {
    const refused = (await this._store.rejected()).find((r) => r.seq === seq);
    if (!refused) return;
    if (refused.type === 'create') {
      const body = { ...refused.body };
      for (const key of ['kind', 'text', 'attribution']) if (key in changes) body[key] = changes[key];
      if (body.attribution === null) delete body.attribution;
      await this._store.retryRejected(seq, { body, display: { ...(refused.display || {}), ...display } });
    } else {
      await this._store.retryRejected(seq, {
        changes: { ...(refused.changes || {}), ...changes }, display: { ...(refused.display || {}), ...display },
      });
    }
    await this._afterLocalChange();
  }

  async dropRejected(seq) {
    await this._store.dropRejected(seq);
    await this._afterLocalChange();
  }

  async _afterLocalChange() {
    await this._countPending();
    this._tellOtherTabs();
    this._emitStatus();
    this._changed();
    this._kick(0);
  }

  // ------------------------------------------------------------------ the list as the page shows it

  /* The session's items: the server's copies with what waits on the device laid over them. */
  async view(session = this.session) {
    const { ops, items, conflicts, rejected } = await this._store.snapshot(session);
    const byId = new Map();
    const ensure = (clientId) => byId.get(clientId);
    for (const record of items) {
      const item = record.item;
      byId.set(item.client_id, {
        ...item, attribution: item.attribution || null, pending: false, conflict: null, error: null, photoBlob: null, local: false,
      });
    }
    const createOf = (op) => ({
      id: null,
      client_id: op.client_id,
      session: op.session,
      kind: op.body.kind,
      text: op.body.text || '',
      attribution: op.body.attribution ? { person_id: null, ...op.body.attribution, ...((op.display && op.display.attribution) || {}) } : null,
      photo: op.photo ? { url: null, width: null, height: null, credit: op.credit || '' } : null,
      photoBlob: op.photo || null,
      captured_at: op.body.captured_at,
      updated_at: null,
      author_id: null,
      version: null,
      position: op.position,
      highlighted: Boolean(op.body.highlighted),
      in_report: true,
      deleted: false,
      merged_into: null,
      seq: 0,
      pending: true,
      conflict: null,
      error: null,
      local: true,
    });
    const applyChanges = (view, changes, display) => {
      if ('kind' in changes) view.kind = changes.kind;
      if ('text' in changes) view.text = changes.text;
      if ('attribution' in changes) {
        view.attribution = changes.attribution
          ? { person_id: null, ...changes.attribution, ...((display && display.attribution) || {}) }
          : null;
      }
      if ('highlighted' in changes) view.highlighted = changes.highlighted;
      if ('deleted' in changes) view.deleted = changes.deleted;
    };
    for (const refused of rejected) {
      if (refused.type === 'create') {
        const view = createOf(refused);
        view.pending = false;
        view.deleted = Boolean(refused.deleted);
        view.error = { seq: refused.seq, message: refused.message, type: 'create' };
        byId.set(refused.client_id, view);
      }
    }
    for (const op of ops) {
      if (op.type === 'create' && op.session === session) {
        const known = ensure(op.client_id);
        if (known) { known.pending = true; if (op.photo && !known.photoBlob) known.photoBlob = op.photo; } else byId.set(op.client_id, createOf(op));
      }
    }
    for (const op of ops) {
      if (op.session !== session) continue;
      if (op.type === 'order') {
        for (const [clientId, position] of Object.entries(op.positions || {})) {
          const view = ensure(clientId);
          if (view) view.position = position;
        }
        continue;
      }
      const view = ensure(op.client_id);
      if (!view || op.type === 'create') continue;
      applyChanges(view, op.changes || {}, op.display);
      view.pending = true;
    }
    for (const conflict of conflicts) {
      const view = ensure(conflict.client_id);
      if (!view) continue;
      applyChanges(view, conflict.mine || {}, conflict.display);
      view.conflict = conflict;
    }
    for (const refused of rejected) {
      if (refused.type === 'create') continue;
      const view = ensure(refused.client_id);
      if (!view) continue;
      applyChanges(view, refused.changes || {}, refused.display);
      view.error = { seq: refused.seq, message: refused.message, type: refused.type };
    }
    return Array.from(byId.values())
      .filter((view) => view.session === session || !view.session)
      .sort((a, b) => (Number(b.position) || 0) - (Number(a.position) || 0)
        || String(b.captured_at || '').localeCompare(String(a.captured_at || '')));
  }

  // ------------------------------------------------------------------ sending

  /* Schedule a sync: now (delay 0) or after the current back-off; never before the time the
     server named in a Retry-After (429/503). */
  _kick(delay) {
    if (this._closed) return;
    clearTimeout(this._syncTimer);
    const asked = this._notBefore ? this._notBefore - Date.now() : 0;
    const wait = Math.max(delay === undefined ? this._backoff : delay, asked);
    this._nextTryAt = Date.now() + wait;
    if (this._busy) this._emitStatus(); // the countdown the page shows
    this._syncTimer = setTimeout(() => { if (this._queued || delay === 0) this.syncNow(); }, wait);
  }

  /* Try again later: after the back-off, or after `waitMs` if the server asked for longer. */
  _failed(waitMs = 0) {
    if (waitMs > 0) this._notBefore = Math.max(this._notBefore || 0, Date.now() + waitMs); // see _kick
    this._kick(this._backoff);
    this._backoff = Math.min(this._backoff * 2, BACKOFF_MAX_MS);
  }

  /* Send the queue. One tab of this event sends at a time. */
  async syncNow() {
    if (this._syncing || this._closed) return;
    if (!this._navigatorOnline()) return; // the `online` event starts it again
    this._syncing = true;
    this._emitStatus();
    try {
      if (typeof navigator !== 'undefined' && navigator.locks && navigator.locks.request) {
        await navigator.locks.request('forum-notes-sync:' + this.slug, { ifAvailable: true }, async (lock) => {
          if (!lock) { this._kick(); return; } // another tab is sending: look again later
          await this._drain();
        });
      } else {
        await this._drain();
      }
    } catch (error) {
      this._failed(); // the device's storage failed us: try again later
    } finally {
      this._syncing = false;
      this._emitStatus();
    }
  }

  async _drain() {
    const held = new Set(); // items whose next op could not go this time
    let refreshed = false;
    let retry = false;
    this._waitMs = 0; // set by _settle when the server asks to wait (429, 503 with Retry-After)
    for (;;) {
      const ops = await this._store.ops();
      this._queued = ops.length;
      this._pending = pendingCount(ops);
      this._emitStatus();
      const op = ops.find((candidate) => !held.has(candidate.client_id));
      if (!op) break;
      let outcome;
      try {
        outcome = await this._send(op);
      } catch (error) {
        if (!(error instanceof NetworkError)) throw error;
        this._setReachable(false);
        this._failed();
        return;
      }
      if (outcome === 'auth') {
        // Logged in again in another tab? The page then carries a new CSRF token: take it, go on.
        if (!refreshed && await this._refreshCsrf()) { refreshed = true; continue; }
        this._authProblem = true;
        this._setReachable(true);
        this._failed();
        return;
      }
      if (outcome === 'retry') {
        held.add(op.client_id);
        retry = true;
        if (this._waitMs) break; // the server asked to wait: send nothing more until then
        continue;
      }
      this._reachable = true;
      this._busy = false;
      if (this._authProblem) { this._authProblem = false; }
      this._tellOtherTabs();
      this._changed();
    }
    if (retry) this._failed(this._waitMs);
    else this._backoff = BACKOFF_FIRST_MS;
    this._emitStatus();
  }

  /* Send one op; "done", "retry" (keep it, try later) or "auth" (keep it, log in again). */
  async _send(op) {
    if (op.type === 'create') return this._sendCreate(op);
    if (op.type === 'order') return this._sendOrder(op);
    const record = await this._store.item(op.client_id);
    const id = record && record.item ? record.item.id : null;
    if (!id) {
      // Its creation was refused: the change joins it (the rapporteur fixes both at once).
      const refused = (await this._store.rejected()).find((r) => r.client_id === op.client_id && r.type === 'create');
      if (refused) { await this._store.foldIntoRejected(op, refused); return 'done'; }
      // Not known here yet (its creation still waits, or the feed has not brought it): later.
      this.poll();
      return 'retry';
    }
    const body = op.type === 'edit'
      ? { ...op.changes, version: op.base_version }
      : { ...op.changes, version: record.item.version || 1 };
    const result = await this._request('PATCH', `/notes/${id}`, { json: body });
    return this._settle(op, result, (json) => this._store.finish(op, [json]));
  }

  async _sendCreate(op) {
    let result;
    if (op.photo) {
      const form = new FormData();
      form.append('client_id', op.body.client_id);
      form.append('captured_at', op.body.captured_at);
      form.append('caption', op.body.text || '');
      form.append('credit', op.credit || '');
      form.append('highlighted', op.body.highlighted ? '1' : '0');
      form.append('file', op.photo, op.photo_name || 'photo.jpg');
      result = await this._request('POST', `/s/${encodeURIComponent(op.session)}/photos`, { form, timeout: PHOTO_TIMEOUT_MS });
      // The upload endpoint missing (an older server): keep the photo, try later.
      if (result.status === 404 || result.status === 405) return 'retry';
    } else {
      result = await this._request('POST', `/s/${encodeURIComponent(op.session)}/notes`, { json: op.body });
    }
    return this._settle(op, result, (json) => (result.status === 200
      ? this._store.finishReplay(op, json)
      : this._store.finish(op, [json])));
  }

  async _sendOrder(op) {
    const view = await this.view(op.session);
    const ids = view.filter((item) => item.id).map((item) => item.id);
    const result = await this._request('POST', `/s/${encodeURIComponent(op.session)}/notes/order`, { json: { ids } });
    return this._settle(op, result, (json) => this._store.finish(op, Array.isArray(json.items) ? json.items : []));
  }

  async _settle(op, result, onAnswer) {
    const { status, json } = result;
    if (status >= 200 && status < 300 && json && typeof json === 'object') {
      await onAnswer(json);
      await this._countPending();
      return 'done';
    }
    if (status === 409 && json && json.code === 'edit_conflict' && json.current) {
      if (alreadySays(json.current, op.changes || {})) {
        // Our own edit, whose answer was lost: the server has it already.
        await this._store.finish(op, [json.current]);
      } else {
        await this._store.toConflict(op, json.current);
        this.dispatchEvent(new CustomEvent('conflict', { detail: { client_id: op.client_id } }));
      }
      await this._countPending();
      return 'done';
    }
    const kind = this._classify(result);
    if (kind === 'retry') this._waitMs = Math.max(this._waitMs || 0, retryAfterMs(result.headers));
    if (isBusyAnswer(status)) this._busy = true; // kept, sent again when the server says
    if (kind !== 'reject') return kind;
    const message = (json && (json.message || (json.problems && json.problems[0]))) || `HTTP ${status}`;
    await this._store.toRejected(op, message);
    await this._countPending();
    this.dispatchEvent(new CustomEvent('rejected', { detail: { client_id: op.client_id, message } }));
    return 'done';
  }

  /* What an HTTP answer means for an op: "retry" (keep it, try later), "auth" (keep it, log in
     again) or "reject" (bad input: never accepted as it is, kept aside for the rapporteur). */
  _classify(result) {
    const { status, json } = result;
    if (status === 401) return 'auth';
    if (status === 400 && json && json.code === 'csrf') return 'auth';
    if (status === 0 || (status >= 300 && status < 400)) return 'auth'; // a redirect to a login page
    if (status === 403 && !(json && json.code)) return 'auth'; // the role was taken away (not a domain refusal)
    if (status === 408 || status === 429 || status >= 500 || status < 200 || (status < 300 && !json)) return 'retry';
    return 'reject';
  }

  // ------------------------------------------------------------------ the live list

  _schedulePoll(delay = POLL_MS) {
    if (this._closed) return;
    clearTimeout(this._pollTimer);
    const asked = this._notBefore ? this._notBefore - Date.now() : 0; // Retry-After (429/503)
    delay = Math.max(delay, asked);
    this._pollTimer = setTimeout(() => { this.poll().finally(() => this._schedulePoll()); }, delay);
  }

  /* Ask what changed in this session since the last answer (If-None-Match: 304 when nothing). */
  poll() {
    if (this._closed) return Promise.resolve(false);
    if (!this._polling) this._polling = this._poll().finally(() => { this._polling = null; });
    return this._polling;
  }

  async _poll() {
    if (!this._navigatorOnline()) return false;
    const since = this._cursor;
    const query = since ? `?since=${encodeURIComponent(since)}` : '';
    const headers = this._etag ? { 'If-None-Match': this._etag } : {};
    let result;
    try {
      result = await this._request('GET', `/s/${encodeURIComponent(this.session)}/notes${query}`, { headers });
    } catch (error) {
      this._setReachable(false);
      return false;
    }
    if (this._classify(result) === 'auth' && result.status !== 304) {
      this._authProblem = true;
      this._setReachable(true);
      return false;
    }
    if (isBusyAnswer(result.status)) {
      const waitMs = retryAfterMs(result.headers);
      if (waitMs > 0) this._notBefore = Math.max(this._notBefore || 0, Date.now() + waitMs);
      this._busy = true;
      this._emitStatus();
      return false;
    }
    if (result.status >= 500) { this._setReachable(false); return false; }
    if (result.status !== 304 && !(result.ok && result.json && Array.isArray(result.json.items))) {
      this._setReachable(true);
      return false;
    }
    const wasCut = !this._reachable || this._authProblem;
    this._reachable = true;
    if (!this._queued) this._busy = false; // what waits: its own answer says when the server is free
    if (this._authProblem) this._authProblem = false;
    if (result.status === 200) {
      const { items, cursor } = result.json;
      if (since && Number(cursor) < Number(since)) {
        // The server's counter went back (a restored database): start again from the whole list.
        this._cursor = null;
        this._etag = null;
        await this._store.setMeta('cursor:' + this.session, null).catch(() => {});
        return false;
      }
      if (!since) await this._store.replaceSession(this.session, items, cursor);
      else if (items.length) await this._store.putItems(items);
      this._cursor = cursor;
      this._etag = result.headers.get('ETag');
      await this._store.setMeta('cursor:' + this.session, cursor).catch(() => {});
      await this._store.setMeta('etag:' + this.session, this._etag).catch(() => {});
      if (items.length || !since) this._changed();
    }
    this._emitStatus();
    if (wasCut && this._queued && !this._syncing) this._kick(0); // back: send what waits
    return true;
  }

  // ------------------------------------------------------------------ HTTP

  async _request(method, path, { json, form, timeout = REQUEST_TIMEOUT_MS, headers = {} } = {}) {
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), timeout) : null;
    const init = {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'manual',
      headers: { Accept: 'application/json', ...headers },
      signal: controller ? controller.signal : undefined,
    };
    if (json !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
    } else if (form !== undefined) {
      init.body = form;
    }
    if (method !== 'GET') init.headers['X-CSRFToken'] = this.csrfToken;
    let response;
    try {
      response = await fetch(this.apiBase + path, init);
    } catch (error) {
      throw new NetworkError(String(error && error.message ? error.message : error));
    } finally {
      if (timer) clearTimeout(timer);
    }
    let body = null;
    if (response.status !== 304 && response.type !== 'opaqueredirect') {
      try { body = await response.json(); } catch (error) { body = null; }
    }
    return { status: response.type === 'opaqueredirect' ? 0 : response.status, ok: response.ok, json: body, headers: response.headers };
  }

  /* The page as the server sends it now: its CSRF token, when the session changed (the rapporteur
     logged in again in another tab). True when a new token was found. */
  async _refreshCsrf() {
    if (typeof DOMParser !== 'function' || !this.pageUrl) return false;
    try {
      const response = await fetch(this.pageUrl, {
        credentials: 'same-origin', cache: 'no-store', redirect: 'manual', headers: { Accept: 'text/html' },
      });
      if (!response.ok || response.redirected) return false;
      const html = await response.text();
      const holder = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-csrf-token]');
      const token = holder ? holder.getAttribute('data-csrf-token') : '';
      if (!token || token === this.csrfToken) return false;
      this.csrfToken = token;
      return true;
    } catch (error) {
      return false;
    }
  }
}
