/* The check-in station engine: scans go to the API when the network answers, and are decided on
   the device (check-in kit + badge signature) and queued when it does not. The page (station.js)
   draws; this module talks to the server and to IndexedDB.

   const station = await createStation({slug, apiBase: "/api/v1/e/<slug>", csrfToken, stationName,
                                         session: null | "A1", role: "organiser" | "volunteer", userId,
                                         messages?: {undoOffline, undoNotAllowed, undoFailed, undoDone},
                                         offlineUrls?: [urls the page loads later, kept for offline use]})
   station.scan(badgeText, {force})             -> Promise<Answer>  (never rejects for network trouble)
   station.checkInRegistration(id, {force})     -> Promise<Answer>  (by name: {registration_id} instead of {badge})
   station.search(query, limit = 8)             -> RosterEntry[]    (sync; accent- and case-insensitive, name + organisation)
   station.undo(checkinId)                      -> Promise<{ok, message}>  (organisers, online)
   station.setSession(code | null); station.setStationName(name)
   station.status() -> {online, busy, retryAt, pending, kitVersion, kitFetchedAt, lastSyncAt, authProblem, rejected,
                        hasKit, persistent}
     busy: the server answered 429 or 503 (it is there, and asked us to wait): true until its next
     answer that is not one of those, or a network failure; retryAt: when the next attempt goes (ms
     since the epoch, never before the Retry-After), null when not busy.
   station.sessions() -> the kit's sessions [{code, title, kind, signup_required, starts_at, ends_at}]
   station.refreshKit(), station.syncNow(), station.close()
   events: "status" (any change of status()), "synced" (detail {client_id, answer}: a queued scan's server answer)

   Answer = the API's answer {outcome, attendee, first_checked_in_at, first_station, checkin_id, session,
   station, scanned_at, received_at, clock_suspect, forced} + {offline, client_id}.
   - offline: true  -> decided on this device (checkin_id null), queued, the server answers later ("synced").
                       `in_kit: false` when a genuine badge names someone the kit does not know yet;
                       outcome "unknown" when there is no kit at all on the device (nothing to verify with).
   - a request the server refused (400/403/404/413/415/422) comes back as its JSON error
     {error: <HTTP status>, message, code?, field?} + {offline: false, client_id}, with no `outcome`.

   Times: scanned_at is the device's time with its UTC offset. Ids: crypto.randomUUID(). */

import {
  ALREADY_CHECKED_IN, CANCELLED, CHECKED_IN, COUNTED, INVALID, VALID,
  decide, judgeBadge, kitKeys, registrationStatus,
} from './badge.js';
import { isBusyAnswer, retryAfterMs } from '../net/retry.js';
import { openStore } from './store.js';

const POST_TIMEOUT_MS = 2500;
const SYNC_TIMEOUT_MS = 10000;
const KIT_TIMEOUT_MS = 15000;
const KIT_REFRESH_MS = 60000;
const BACKOFF_FIRST_MS = 2000;
const BACKOFF_MAX_MS = 60000;
const STATION_MAX = 100;

const DEFAULT_MESSAGES = {
  undoOffline: 'Annulation impossible hors connexion : réessayez quand le réseau revient.',
  undoNotAllowed: 'Seul·e un·e organisateur·rice peut annuler une entrée.',
  undoFailed: "L'entrée n'a pas pu être annulée.",
  undoDone: 'Entrée annulée.',
  network: 'Le serveur ne répond pas.',
};

class NetworkError extends Error {}

export async function createStation(config) {
  const station = new Station(config);
  await station._start();
  return station;
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

/* "2019-06-06T09:12:00.123+02:00": the device's local time with its offset. */
export function isoWithOffset(date = new Date()) {
  const pad = (n, width = 2) => String(Math.abs(n)).padStart(width, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/* Lower case, no accents, no punctuation between words: "Éloïse L'Hôte-Dupré" -> "eloise l hote dupre". */
export function fold(text) {
  return String(text || '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/œ/g, 'oe').replace(/æ/g, 'ae').replace(/ß/g, 'ss')
    .replace(/[-'’‘.,/()]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function arrivalKey(door, registrationId) {
  return (door || '') + '|' + registrationId;
}

function time(value) {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? Infinity : ms;
}

class Station extends EventTarget {
  constructor(config) {
    super();
    const base = config.apiBase || `/api/v1/e/${config.slug}`;
    this.slug = config.slug;
    this.apiBase = base.replace(/\/+$/, '');
    this.csrfToken = config.csrfToken || '';
    this.stationName = String(config.stationName || '').trim().slice(0, STATION_MAX);
    this.session = config.session || null;
    this.role = config.role || 'volunteer';
    this.userId = config.userId === undefined ? null : config.userId;
    this.messages = { ...DEFAULT_MESSAGES, ...(config.messages || {}) };
    this._offlineUrls = Array.isArray(config.offlineUrls) ? config.offlineUrls : [];

    this._store = null;
    this._kit = null;
    this._keys = new Map();
    this._etag = null;
    this._kitFetchedAt = null;
    this._index = [];
    this._byId = new Map();
    this._arrivals = new Map(); // key -> local arrival
    this._checkins = new Map(); // checkin id -> arrival key (for undo)
    this._pending = 0;
    this._rejected = 0;
    this._lastSyncAt = null;
    this._reachable = true; // the fate of the last request
    this._busy = false; // the last answer was 429/503
    this._nextTryAt = 0; // when the scheduled sync (or probe) goes
    this._authProblem = false;
    this._syncing = false;
    this._syncTimer = null;
    this._backoff = BACKOFF_FIRST_MS;
    this._kitTimer = null;
    this._kitLoading = null;
    this._lastStatus = '';
    this._localChain = Promise.resolve();
    this._channel = null;
    this._closed = false;
    this._onOnline = () => { this._reachable = true; this._busy = false; this._emitStatus(); this._kick(0); this.refreshKit(); };
    this._onOffline = () => { this._emitStatus(); };
  }

  // ------------------------------------------------------------------ lifecycle

  async _start() {
    this._store = await openStore(this.slug);
    const saved = await this._store.getKit().catch(() => null);
    if (saved && saved.kit) this._useKit(saved.kit, saved.etag, saved.fetchedAt);
    this._lastSyncAt = (await this._store.getMeta('lastSyncAt').catch(() => null)) || null;
    await this._reloadLocal();

    window.addEventListener('online', this._onOnline);
    window.addEventListener('offline', this._onOffline);
    if (typeof BroadcastChannel === 'function') {
      // Other tabs of this station on this device: their queue and arrivals are ours too.
      this._channel = new BroadcastChannel('forum-checkin:' + this.slug);
      this._channel.onmessage = () => { this._reloadLocal().then(() => this._emitStatus()); };
    }
    this._kitTimer = setInterval(() => { if (this._navigatorOnline()) this.refreshKit(); }, KIT_REFRESH_MS);
    this._emitStatus();
    if (this._navigatorOnline()) {
      this.refreshKit();
      if (this._pending) this._kick(0);
      this.keepOffline(this._offlineUrls);
    }
  }

  /* Ask the service worker to keep this page and the files it loaded, so that a reload without
     network still opens the station (the worker may not have seen this first visit's requests). */
  keepOffline(extra = []) {
    if (typeof navigator === 'undefined' || !navigator.serviceWorker || !this._navigatorOnline()) return;
    const urls = new Set([
      location.pathname + location.search,
      import.meta.url,
      new URL('./badge.js', import.meta.url).href,
      new URL('./store.js', import.meta.url).href,
      new URL('../net/retry.js', import.meta.url).href,
      new URL('../../vendor/noble-ed25519.js', import.meta.url).href,
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
        if (registration.active) registration.active.postMessage({ type: 'keep-station', urls: Array.from(urls) });
      })
      .catch(() => {});
  }

  close() {
    this._closed = true;
    window.removeEventListener('online', this._onOnline);
    window.removeEventListener('offline', this._onOffline);
    clearInterval(this._kitTimer);
    clearTimeout(this._syncTimer);
    if (this._channel) this._channel.close();
  }

  async _reloadLocal() {
    const [arrivals, pending, rejected] = await Promise.all([
      this._store.arrivals().catch(() => []),
      this._store.queueCount().catch(() => this._pending),
      this._store.rejectedCount().catch(() => this._rejected),
    ]);
    this._arrivals = new Map(arrivals.map((arrival) => [arrival.key, arrival]));
    arrivals.forEach((arrival) => { if (arrival.checkin_id) this._checkins.set(arrival.checkin_id, arrival.key); });
    this._pending = pending;
    this._rejected = rejected;
  }

  _tellOtherTabs() {
    if (this._channel) this._channel.postMessage('changed');
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
      retryAt: busy ? Math.max(this._notBefore || 0, this._nextTryAt || 0) || null : null,
      pending: this._pending,
      kitVersion: this._kit ? this._kit.version : null,
      kitFetchedAt: this._kitFetchedAt,
      lastSyncAt: this._lastSyncAt,
      authProblem: this._authProblem,
      rejected: this._rejected,
      hasKit: Boolean(this._kit),
      persistent: Boolean(this._store && this._store.persistent),
    };
  }

  _emitStatus() {
    const status = this.status();
    const key = JSON.stringify(status);
    if (key === this._lastStatus) return;
    this._lastStatus = key;
    this.dispatchEvent(new CustomEvent('status', { detail: status }));
  }

  /* An answer (reachable) or a network failure (not): either way the server is not "busy". */
  _setReachable(reachable) {
    this._reachable = reachable;
    this._busy = false;
    this._emitStatus();
  }

  /* The server answered 429/503: not reachable for scans until it answers otherwise. */
  _setBusy() {
    this._reachable = false;
    this._busy = true;
  }

  setSession(code) {
    this.session = code ? String(code).trim() || null : null;
  }

  setStationName(name) {
    this.stationName = String(name || '').trim().slice(0, STATION_MAX);
  }

  sessions() {
    return this._kit && Array.isArray(this._kit.sessions) ? this._kit.sessions.slice() : [];
  }

  // ------------------------------------------------------------------ HTTP

  async _request(method, path, { body, timeout, headers = {} } = {}) {
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), timeout) : null;
    const init = {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json', ...headers },
      signal: controller ? controller.signal : undefined,
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.headers['X-CSRFToken'] = this.csrfToken;
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(this.apiBase + path, init);
    } catch (error) {
      throw new NetworkError(String(error && error.message ? error.message : error));
    } finally {
      if (timer) clearTimeout(timer);
    }
    let json = null;
    if (response.status !== 304) {
      try { json = await response.json(); } catch (error) { json = null; }
    }
    return { status: response.status, ok: response.ok, json, headers: response.headers };
  }

  /* The station page as the server sends it now: its CSRF token, when the session changed (the
     volunteer logged in again in another tab). True when a new token was found. */
  async _refreshCsrf() {
    if (typeof DOMParser !== 'function' || typeof location === 'undefined') return false;
    try {
      const response = await fetch(location.pathname, {
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

  /* What an HTTP answer means for a scan: "answer" (final), "retry" (keep it queued, try later),
     "auth" (keep it, log in again) or "reject" (bad input: never accepted, do not resend). */
  _classify(result) {
    const { status, json } = result;
    if (status >= 200 && status < 300 && json && typeof json === 'object') return 'answer';
    if (status === 401) return 'auth';
    if (status === 400 && json && json.code === 'csrf') return 'auth';
    if (status === 408 || status === 429 || status >= 500 || status < 200 || (status < 300 && !json)) return 'retry';
    if (status === 403 && !(json && json.code)) return 'auth'; // the role was taken away (not a domain refusal)
    if (status >= 300 && status < 400) return 'auth'; // a proxy sending to a login page
    return 'reject';
  }

  // ------------------------------------------------------------------ scanning

  scan(badgeText, { force = false } = {}) {
    return this._submit({ badge: String(badgeText == null ? '' : badgeText).trim() }, force);
  }

  checkInRegistration(registrationId, { force = false } = {}) {
    return this._submit({ registration_id: Number(registrationId) }, force);
  }

  async _submit(identity, force) {
    const body = {
      ...identity,
      client_id: newClientId(),
      station: this.stationName,
      scanned_at: isoWithOffset(new Date()),
    };
    if (this.session) body.session = this.session;
    if (force && this.role === 'organiser') body.force = true;

    const heldOff = this._notBefore && this._notBefore > Date.now(); // the server asked us to wait
    if (this._online() && !heldOff) {
      let result = null;
      try {
        result = await this._request('POST', '/checkins', { body, timeout: POST_TIMEOUT_MS });
      } catch (error) {
        this._setReachable(false);
        this._kick();
      }
      if (result) {
        const kind = this._classify(result);
        if (kind === 'answer') {
          this._reachable = true;
          this._busy = false;
          this._authProblem = false;
          await this._learn(result.json);
          this._emitStatus();
          if (this._pending) this._kick(0);
          return { ...result.json, offline: false, client_id: body.client_id };
        }
        if (kind === 'reject') {
          this._setReachable(true);
          return { ...(result.json || {}), error: result.status, offline: false, client_id: body.client_id };
        }
        if (kind === 'auth') {
          this._authProblem = true;
          this._reachable = true;
          this._busy = false;
        } else {
          if (isBusyAnswer(result.status)) this._setBusy(); else { this._reachable = false; this._busy = false; }
          this._holdOff(retryAfterMs(result.headers)); // 429/503: as long as the server asks
          this._kick();
        }
        this._emitStatus();
      }
    }
    return this._decideHere(body);
  }

  /* Decide on the device, queue the scan (before answering), note the arrival. One decision at a
     time: the same badge read twice in a row (a camera sees it again) is a duplicate. */
  _decideHere(body) {
    const next = this._localChain.then(() => this._decideHereNow(body));
    this._localChain = next.catch(() => {});
    return next;
  }

  async _decideHereNow(body) {
    const answer = await this._localAnswer(body);
    let arrival = null;
    if (answer.outcome === CHECKED_IN && answer.attendee_id !== null) {
      arrival = {
        key: arrivalKey(body.session, answer.attendee_id),
        registration_id: answer.attendee_id,
        door: body.session || '',
        at: body.scanned_at,
        station: body.station,
        client_id: body.client_id,
        checkin_id: null,
        pending: true,
        synced_at: null,
      };
    }
    delete answer.attendee_id;
    const item = { client_id: body.client_id, body, created_at: Date.now() };
    if (arrival) this._arrivals.set(arrival.key, arrival);
    try {
      await this._store.enqueue(item, arrival);
    } catch (error) {
      answer.queued = false; // the device refused to store it (quota): the page should say so
    }
    this._pending += 1;
    this._tellOtherTabs();
    this._emitStatus();
    this._kick();
    return answer;
  }

  async _localAnswer(body) {
    const kit = this._kit;
    const base = {
      outcome: null,
      attendee: null,
      first_checked_in_at: null,
      first_station: null,
      checkin_id: null,
      session: body.session || null,
      station: body.station,
      scanned_at: body.scanned_at,
      received_at: null,
      clock_suspect: false,
      forced: false,
      offline: true,
      client_id: body.client_id,
      in_kit: true,
      queued: true,
      attendee_id: null,
    };
    if (!kit) return { ...base, outcome: 'unknown', in_kit: false };

    let status;
    let entry = null;
    let registrationId = null;
    if (body.registration_id !== undefined) {
      entry = this._byId.get(body.registration_id) || null;
      registrationId = body.registration_id;
      status = entry ? registrationStatus(entry) : ((kit.cancelled || []).includes(registrationId) ? CANCELLED : INVALID);
      if (status === INVALID) entry = null;
    } else {
      const verdict = await judgeBadge(body.badge, kit, this._keys);
      status = verdict.status;
      entry = verdict.entry;
      registrationId = verdict.claims && (status === VALID || entry) ? verdict.claims.registration_id : null;
      base.in_kit = verdict.inKit;
    }

    const door = body.session || '';
    const session = door ? (kit.sessions || []).find((s) => s.code === door) : null;
    let seatHeld = true;
    if (status === VALID && session && session.signup_required) {
      seatHeld = Boolean(entry && (entry.workshops || []).some((w) => w.code === door && w.seat === 'confirmed'));
    }
    const earlier = status === VALID && registrationId !== null ? this._arrivalOf(registrationId, door) : null;
    const decision = decide(status, {
      alreadyArrived: Boolean(earlier),
      sessionGiven: Boolean(door),
      seatHeld,
      force: Boolean(body.force),
    });
    const answer = {
      ...base,
      outcome: decision.outcome,
      forced: decision.forced,
      attendee: entry ? this._attendee(entry) : null,
      attendee_id: decision.outcome === CHECKED_IN ? registrationId : null,
    };
    if (decision.outcome === ALREADY_CHECKED_IN && earlier) {
      answer.first_checked_in_at = earlier.at;
      answer.first_station = earlier.station;
    } else if (decision.outcome === CHECKED_IN) {
      answer.first_checked_in_at = body.scanned_at;
      answer.first_station = body.station;
    }
    return answer;
  }

  /* The person's earliest known arrival at a door: this device's, or the kit's (entrance only). */
  _arrivalOf(registrationId, door) {
    const candidates = [];
    const local = this._arrivals.get(arrivalKey(door, registrationId));
    if (local) candidates.push({ at: local.at, station: local.station });
    if (!door) {
      const entry = this._byId.get(registrationId);
      if (entry && entry.checked_in_at) candidates.push({ at: entry.checked_in_at, station: entry.checked_in_station });
    }
    if (!candidates.length) return null;
    return candidates.reduce((first, next) => (time(next.at) < time(first.at) ? next : first));
  }

  /* A roster entry shaped like the API's `attendee`. */
  _attendee(entry) {
    const sessions = new Map(((this._kit && this._kit.sessions) || []).map((s) => [s.code, s]));
    const active = entry.status === 'pending' || entry.status === 'confirmed';
    return {
      registration_id: entry.id,
      name: entry.name,
      organisation: entry.organisation,
      job_title: entry.job_title,
      category: entry.category,
      category_label: entry.category_label,
      status: entry.status,
      workshops: active
        ? (entry.workshops || []).map((w) => {
          const session = sessions.get(w.code) || {};
          return { code: w.code, title: session.title || w.code, seat: w.seat, starts_at: session.starts_at || null };
        })
        : [],
    };
  }

  /* Note what a server answer says about arrivals (for offline decisions later and for undo). */
  async _learn(answer, clientId) {
    if (!answer || !COUNTED.includes(answer.outcome) || !answer.attendee || !answer.first_checked_in_at) {
      if (clientId) await this._forgetPendingArrival(clientId);
      return;
    }
    const door = answer.session || '';
    const key = arrivalKey(door, answer.attendee.registration_id);
    const arrival = {
      key,
      registration_id: answer.attendee.registration_id,
      door,
      at: answer.first_checked_in_at,
      station: answer.first_station || '',
      client_id: clientId || null,
      checkin_id: answer.checkin_id || null,
      pending: false,
      synced_at: Date.now(),
    };
    this._arrivals.set(key, arrival);
    if (answer.checkin_id) this._checkins.set(answer.checkin_id, key);
    await this._store.putArrival(arrival).catch(() => {});
  }

  /* A queued scan the server did not count (e.g. the badge was revoked since the kit): forget
     the arrival this device assumed for it. */
  async _forgetPendingArrival(clientId) {
    const stale = Array.from(this._arrivals.values()).filter((a) => a.client_id === clientId && a.pending);
    stale.forEach((a) => this._arrivals.delete(a.key));
    await this._store.deleteArrivals(stale.map((a) => a.key)).catch(() => {});
  }

  // ------------------------------------------------------------------ sync

  /* Schedule a sync: now (delay 0) or after the current back-off; never before the time the
     server named in a Retry-After (429/503). */
  _kick(delay) {
    if (this._closed) return;
    clearTimeout(this._syncTimer);
    const asked = this._notBefore ? this._notBefore - Date.now() : 0;
    const wait = Math.max(delay === undefined ? this._backoff : delay, asked);
    this._nextTryAt = Date.now() + wait;
    if (this._busy) this._emitStatus(); // the countdown the page shows
    this._syncTimer = setTimeout(() => {
      if (this._pending) this.syncNow();
      else if (!this._reachable) this.refreshKit(); // nothing to send: probe the server with the kit
    }, wait);
  }

  /* Try again later: after the back-off, or after `waitMs` if the server asked for longer. */
  _failed(waitMs = 0) {
    this._holdOff(waitMs);
    this._kick(this._backoff);
    this._backoff = Math.min(this._backoff * 2, BACKOFF_MAX_MS);
  }

  /* The server said when to come back (Retry-After): no scan is sent before then. */
  _holdOff(waitMs) {
    if (waitMs > 0) this._notBefore = Math.max(this._notBefore || 0, Date.now() + waitMs);
  }

  /* Send the queue, oldest first, one at a time. One tab of this station syncs at a time. */
  async syncNow() {
    if (this._syncing || this._closed) return;
    if (!this._navigatorOnline()) return; // the `online` event starts it again
    this._syncing = true;
    try {
      if (typeof navigator !== 'undefined' && navigator.locks && navigator.locks.request) {
        await navigator.locks.request('forum-checkin-sync:' + this.slug, { ifAvailable: true }, async (lock) => {
          if (!lock) { this._kick(); return; } // another tab is syncing: look again later
          await this._drain();
        });
      } else {
        await this._drain();
      }
    } catch (error) {
      this._failed(); // the device's storage failed us: try again later
    } finally {
      this._syncing = false;
    }
  }

  async _drain() {
    let sent = 0;
    let refreshed = false;
    for (;;) {
      const items = await this._store.queue().catch(() => []);
      this._pending = items.length;
      if (!items.length) break;
      const item = items[0];
      let result;
      try {
        result = await this._request('POST', '/checkins', { body: item.body, timeout: SYNC_TIMEOUT_MS });
      } catch (error) {
        this._setReachable(false);
        this._failed();
        return;
      }
      const kind = this._classify(result);
      if (kind === 'retry') {
        if (isBusyAnswer(result.status)) this._setBusy();
        else if (result.status >= 500) this._setReachable(false);
        this._failed(retryAfterMs(result.headers)); // kept in the queue; a 429 waits its Retry-After
        this._emitStatus();
        return;
      }
      if (kind === 'auth') {
        // Logged in again in another tab? The page then carries a new CSRF token: take it, go on.
        if (!refreshed && await this._refreshCsrf()) { refreshed = true; continue; }
        this._authProblem = true;
        this._setReachable(true);
        this._failed();
        return;
      }
      this._reachable = true;
      this._busy = false;
      let answer;
      if (kind === 'answer') {
        this._authProblem = false;
        await this._store.dequeue(item.client_id);
        answer = { ...result.json, offline: false, client_id: item.client_id };
        await this._learn(result.json, item.client_id);
      } else {
        // Bad input the server will never accept: kept aside on the device, never resent.
        answer = { ...(result.json || {}), error: result.status, offline: false, client_id: item.client_id };
        await this._store.reject(item, answer);
        await this._forgetPendingArrival(item.client_id);
        this._rejected += 1;
      }
      sent += 1;
      this._pending = Math.max(0, items.length - 1);
      this._lastSyncAt = new Date().toISOString();
      this._store.setMeta('lastSyncAt', this._lastSyncAt).catch(() => {});
      this._emitStatus();
      this._tellOtherTabs();
      this.dispatchEvent(new CustomEvent('synced', { detail: { client_id: item.client_id, answer } }));
    }
    this._backoff = BACKOFF_FIRST_MS;
    this._emitStatus();
    if (sent) this.refreshKit();
  }

  // ------------------------------------------------------------------ the kit

  _useKit(kit, etag, fetchedAt) {
    this._kit = kit;
    this._etag = etag || null;
    this._kitFetchedAt = fetchedAt || null;
    this._keys = kitKeys(kit);
    this._byId = new Map();
    this._index = (kit.roster || []).map((entry, order) => {
      this._byId.set(entry.id, entry);
      const first = fold(entry.first_name);
      const last = fold(entry.last_name);
      return {
        entry,
        order,
        first,
        last,
        words: fold(`${entry.name || ''} ${entry.organisation || ''}`).split(' '),
        text: fold(`${entry.first_name || ''} ${entry.last_name || ''} ${entry.name || ''} ${entry.organisation || ''}`),
      };
    });
  }

  /* Fetch the kit (If-None-Match: 304 keeps ours). Concurrent calls share one request. */
  refreshKit() {
    if (this._closed) return Promise.resolve(false);
    if (!this._kitLoading) {
      this._kitLoading = this._fetchKit().finally(() => { this._kitLoading = null; });
    }
    return this._kitLoading;
  }

  async _fetchKit() {
    const started = Date.now();
    const headers = this._etag ? { 'If-None-Match': this._etag } : {};
    let result;
    try {
      result = await this._request('GET', '/checkin-kit', { timeout: KIT_TIMEOUT_MS, headers });
    } catch (error) {
      this._setReachable(false);
      if (!this._syncing) this._failed();
      return false;
    }
    if (result.status === 401 || result.status === 403) {
      this._authProblem = true;
      this._setReachable(true);
      return false;
    }
    if (isBusyAnswer(result.status)) {
      this._setBusy();
      if (this._syncing) this._holdOff(retryAfterMs(result.headers));
      else this._failed(retryAfterMs(result.headers)); // probe again, not before Retry-After
      this._emitStatus();
      return false;
    }
    if (result.status >= 500) {
      this._setReachable(false);
      if (!this._syncing) this._failed();
      return false;
    }
    const fetchedAt = new Date().toISOString();
    if (result.status === 304 && this._kit) {
      this._kitFetchedAt = fetchedAt;
      await this._store.putKit({ kit: this._kit, etag: this._etag, fetchedAt }).catch(() => {});
    } else if (result.ok && result.json && Array.isArray(result.json.roster)) {
      this._useKit(result.json, result.headers.get('ETag') || null, fetchedAt);
      await this._store.putKit({ kit: this._kit, etag: this._etag, fetchedAt }).catch(() => {});
    } else {
      this._setReachable(true);
      return false;
    }
    this._authProblem = false;
    this._reachable = true;
    // Queued scans the server asked to hold back: still "busy" until the sync gets its answer.
    if (!this._pending) { this._busy = false; this._backoff = BACKOFF_FIRST_MS; }
    await this._dropKnownArrivals(started);
    this._emitStatus();
    if (this._pending && !this._syncing) this._kick(0);
    return true;
  }

  /* Arrivals synced before this kit was made are in it (or were undone since): the kit now says. */
  async _dropKnownArrivals(kitRequestedAt) {
    const known = Array.from(this._arrivals.values())
      .filter((a) => !a.pending && a.synced_at !== null && a.synced_at <= kitRequestedAt && !a.door);
    known.forEach((a) => this._arrivals.delete(a.key));
    await this._store.deleteArrivals(known.map((a) => a.key)).catch(() => {});
  }

  // ------------------------------------------------------------------ search

  /* Up to `limit` roster entries whose name or organisation holds every word of `query`
     (accents and case ignored); names starting with the query first. With this device's arrivals. */
  search(query, limit = 8) {
    const words = fold(query).split(' ').filter(Boolean);
    if (!words.length) return [];
    const found = [];
    for (const item of this._index) {
      if (!words.every((word) => item.text.includes(word))) continue;
      let rank = 2;
      if (item.last.startsWith(words[0]) || item.first.startsWith(words[0])) rank = 0;
      else if (words.every((word) => item.words.some((w) => w.startsWith(word)))) rank = 1;
      found.push({ item, rank });
    }
    found.sort((a, b) => a.rank - b.rank || a.item.order - b.item.order);
    return found.slice(0, limit).map(({ item }) => this._withArrival(item.entry));
  }

  _withArrival(entry) {
    const door = this.session || '';
    const arrival = this._arrivalOf(entry.id, door);
    return {
      ...entry,
      checked_in_at: arrival ? arrival.at : (door ? null : entry.checked_in_at),
      checked_in_station: arrival ? arrival.station : (door ? null : entry.checked_in_station),
    };
  }

  // ------------------------------------------------------------------ undo

  async undo(checkinId) {
    if (this.role !== 'organiser') return { ok: false, message: this.messages.undoNotAllowed };
    if (!this._online()) return { ok: false, message: this.messages.undoOffline };
    let result;
    try {
      result = await this._request('POST', `/checkins/${encodeURIComponent(checkinId)}/undo`, {
        body: {}, timeout: POST_TIMEOUT_MS,
      });
    } catch (error) {
      this._setReachable(false);
      return { ok: false, message: this.messages.undoOffline };
    }
    if (result.status === 401 || (result.status === 400 && result.json && result.json.code === 'csrf')) {
      this._authProblem = true;
      this._emitStatus();
    }
    if (!result.ok) {
      return { ok: false, message: (result.json && result.json.message) || this.messages.undoFailed };
    }
    const key = this._checkins.get(Number(checkinId));
    if (key) {
      this._arrivals.delete(key);
      await this._store.deleteArrivals([key]).catch(() => {});
      this._tellOtherTabs();
    }
    this.refreshKit();
    return { ok: true, message: this.messages.undoDone };
  }
}

export { INVALID, CHECKED_IN, ALREADY_CHECKED_IN };
