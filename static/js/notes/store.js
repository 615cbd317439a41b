/* What the capture page keeps on the device, per event: IndexedDB database "forum-notes:<slug>".

   outbox     what waits to be sent, oldest first (auto-increment `seq`, index `client_id`):
              {seq, type, client_id, session, rev, created_at, ...}
              type "create": {body (the JSON of the POST), photo?: Blob, photo_name?, display, position}
              type "edit":   {changes: {kind?, text?, attribution?}, base_version, display}
              type "flags":  {changes: {highlighted?, deleted?}}
              type "order":  {client_id: "order:<session>", positions: {client_id: position}}
              A later change of the same kind to the same item joins the op still waiting (its
              `rev` goes up, so a sender that was already sending it knows to send it again).
   items      the server's copy of each item ({client_id, session, item}), from answers and the feed
   conflicts  edits the server refused as stale (409), kept until the rapporteur chooses:
              {client_id, session, mine: changes, display, base_version, current (the server's item)}
   rejected   ops the server refused as bad input (never resent as they are; the page offers to
              fix them): the op plus {message, rejected_at}
   meta       small values (the feed cursor and ETag of each session)

   Without IndexedDB (some private modes) the same interface keeps everything in memory: the page
   works, but nothing survives a reload (the page says so). */

const DB_VERSION = 1;
const SCHEMA = {
  outbox: { keyPath: 'seq', autoIncrement: true, indexes: { client_id: 'client_id' } },
  items: { keyPath: 'client_id', indexes: { session: 'session' } },
  conflicts: { keyPath: 'client_id' },
  rejected: { keyPath: 'seq', indexes: { client_id: 'client_id' } },
  meta: {},
};
const ALL = Object.keys(SCHEMA);

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function openDatabase(name) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const [storeName, spec] of Object.entries(SCHEMA)) {
        if (db.objectStoreNames.contains(storeName)) continue;
        const options = spec.keyPath ? { keyPath: spec.keyPath, autoIncrement: Boolean(spec.autoIncrement) } : undefined;
        const store = db.createObjectStore(storeName, options);
        for (const [index, path] of Object.entries(spec.indexes || {})) store.createIndex(index, path, { unique: false });
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => db.close(); // another tab upgrades: this one reopens on reload
      resolve(db);
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('IndexedDB blocked'));
  });
}

/* Runs `work(api)` in one IndexedDB transaction (all or nothing). `work` may await the api's
   requests only (awaiting anything else would let the transaction commit early). */
class IdbBackend {
  constructor(db) {
    this.db = db;
    this.persistent = true;
  }

  run(names, mode, work) {
    const tx = this.db.transaction(names, mode);
    const store = (name) => tx.objectStore(name);
    const api = {
      get: (name, key) => promisify(store(name).get(key)),
      all: (name) => promisify(store(name).getAll()),
      byIndex: (name, index, key) => promisify(store(name).index(index).getAll(key)),
      put: (name, value, key) => promisify(key === undefined ? store(name).put(value) : store(name).put(value, key)),
      add: (name, value) => promisify(store(name).add(value)),
      del: (name, key) => promisify(store(name).delete(key)),
    };
    const finished = new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
    });
    const result = Promise.resolve().then(() => work(api));
    result.catch(() => { try { tx.abort(); } catch (error) { /* already finished */ } });
    return Promise.all([result, finished]).then(([value]) => value);
  }
}

class MemoryBackend {
  constructor() {
    this.persistent = false;
    this.stores = {};
    this.counters = {};
    for (const name of ALL) { this.stores[name] = new Map(); this.counters[name] = 0; }
  }

  run(names, mode, work) {
    const copy = (value) => (value === undefined ? undefined : { ...value });
    const keyOf = (name, value, key) => {
      const spec = SCHEMA[name];
      if (!spec.keyPath) return key;
      if (value[spec.keyPath] === undefined && spec.autoIncrement) {
        this.counters[name] += 1;
        value[spec.keyPath] = this.counters[name];
      }
      return value[spec.keyPath];
    };
    const sorted = (name) => Array.from(this.stores[name].entries())
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, value]) => value);
    const api = {
      get: async (name, key) => copy(this.stores[name].get(key)),
      all: async (name) => sorted(name).map(copy),
      byIndex: async (name, index, key) => sorted(name).filter((v) => v[SCHEMA[name].indexes[index]] === key).map(copy),
      put: async (name, value, key) => {
        const stored = { ...value };
        const k = keyOf(name, stored, key);
        this.stores[name].set(k, stored);
        return k;
      },
      add: async (name, value) => {
        const stored = { ...value };
        const k = keyOf(name, stored);
        if (this.stores[name].has(k)) throw new Error('key exists');
        this.stores[name].set(k, stored);
        return k;
      },
      del: async (name, key) => { this.stores[name].delete(key); },
    };
    return Promise.resolve().then(() => work(api));
  }
}

/* A server item replaces the stored copy unless the stored one is newer (a later change). */
function newer(stored, incoming) {
  if (!stored || !stored.item) return true;
  return (Number(incoming.seq) || 0) >= (Number(stored.item.seq) || 0);
}

class NotesStore {
  constructor(backend) {
    this.backend = backend;
    this.persistent = backend.persistent;
  }

  // ---------------------------------------------------------------- reading

  ops() { return this.backend.run(['outbox'], 'readonly', (t) => t.all('outbox')); }
  items(session) { return this.backend.run(['items'], 'readonly', (t) => t.byIndex('items', 'session', session)); }
  item(clientId) { return this.backend.run(['items'], 'readonly', (t) => t.get('items', clientId)); }
  conflicts() { return this.backend.run(['conflicts'], 'readonly', (t) => t.all('conflicts')); }
  rejected() { return this.backend.run(['rejected'], 'readonly', (t) => t.all('rejected')); }
  getMeta(key) { return this.backend.run(['meta'], 'readonly', (t) => t.get('meta', key)); }
  setMeta(key, value) { return this.backend.run(['meta'], 'readwrite', (t) => t.put('meta', value, key)); }

  /* Everything the list of one session is drawn from, read in one go. */
  snapshot(session) {
    return this.backend.run(['outbox', 'items', 'conflicts', 'rejected'], 'readonly', async (t) => ({
      ops: await t.all('outbox'),
      items: await t.byIndex('items', 'session', session),
      conflicts: (await t.all('conflicts')).filter((c) => c.session === session),
      rejected: (await t.all('rejected')).filter((r) => r.session === session),
    }));
  }

  // ---------------------------------------------------------------- writing

  /* A new item: on the device before anything else. */
  addCreate(op) {
    return this.backend.run(['outbox'], 'readwrite', (t) => t.add('outbox', { ...op, type: 'create', rev: 0 }));
  }

  /* An edit, flags or order change: joins the same item's last op when it is of the same type
     (nothing is sent twice, and an edit keeps the version it started from). */
  addChange(type, clientId, session, fields) {
    return this.backend.run(['outbox'], 'readwrite', async (t) => {
      const ops = await t.byIndex('outbox', 'client_id', clientId);
      const last = ops.length ? ops[ops.length - 1] : null;
      if (last && last.type === type) {
        const joined = { ...last, rev: (last.rev || 0) + 1 };
        if (fields.changes) joined.changes = { ...(last.changes || {}), ...fields.changes };
        if (fields.display) joined.display = { ...(last.display || {}), ...fields.display };
        if (fields.positions) joined.positions = { ...(last.positions || {}), ...fields.positions };
        await t.put('outbox', joined);
        return joined.seq;
      }
      return t.add('outbox', { ...fields, type, client_id: clientId, session, rev: 0, created_at: Date.now() });
    });
  }

  /* The server took an op: store its answer; drop the op unless it changed while being sent (then
     it goes again, an edit now starting from the version the server just gave). */
  finish(op, items) {
    return this.backend.run(['outbox', 'items'], 'readwrite', async (t) => {
      const now = await t.get('outbox', op.seq);
      if (now && (now.rev || 0) === (op.rev || 0)) {
        await t.del('outbox', op.seq);
      } else if (now && now.type === 'edit') {
        const mine = items.find((item) => item.client_id === now.client_id);
        if (mine) await t.put('outbox', { ...now, base_version: mine.version });
      }
      await this._putItems(t, items);
    });
  }

  /* A replayed create (200): the original answer; it never replaces a copy already here. */
  finishReplay(op, item) {
    return this.backend.run(['outbox', 'items'], 'readwrite', async (t) => {
      await t.del('outbox', op.seq);
      const stored = await t.get('items', item.client_id);
      if (!stored) await t.put('items', { client_id: item.client_id, session: item.session, item: { ...item, seq: 0 } });
    });
  }

  /* A stale edit: the op becomes a conflict, and the server's item is stored. */
  toConflict(op, current) {
    return this.backend.run(['outbox', 'items', 'conflicts'], 'readwrite', async (t) => {
      const now = (await t.get('outbox', op.seq)) || op;
      await t.del('outbox', op.seq);
      const earlier = await t.get('conflicts', op.client_id);
      await t.put('conflicts', {
        client_id: op.client_id,
        session: op.session,
        mine: { ...((earlier && earlier.mine) || {}), ...(now.changes || {}) },
        display: { ...((earlier && earlier.display) || {}), ...(now.display || {}) },
        base_version: now.base_version,
        current,
        at: Date.now(),
      });
      await this._putItems(t, [current]);
    });
  }

  toRejected(op, message) {
    return this.backend.run(['outbox', 'rejected'], 'readwrite', async (t) => {
      const now = (await t.get('outbox', op.seq)) || op;
      await t.del('outbox', op.seq);
      await t.put('rejected', { ...now, message, rejected_at: Date.now() });
    });
  }

  /* An op on an item whose creation was refused: it joins the refused creation (fixed together). */
  foldIntoRejected(op, rejectedCreate) {
    return this.backend.run(['outbox', 'rejected'], 'readwrite', async (t) => {
      await t.del('outbox', op.seq);
      const body = { ...rejectedCreate.body };
      const display = { ...(rejectedCreate.display || {}) };
      const changes = op.changes || {};
      for (const key of ['kind', 'text', 'attribution', 'highlighted']) if (key in changes) body[key] = changes[key];
      if (op.display && 'attribution' in op.display) display.attribution = op.display.attribution;
      const deleted = 'deleted' in changes ? changes.deleted : rejectedCreate.deleted;
      await t.put('rejected', { ...rejectedCreate, body, display, deleted });
    });
  }

  /* The rapporteur fixed a refused op: it goes back in the queue (one transaction). */
  retryRejected(seq, replacement) {
    return this.backend.run(['outbox', 'rejected'], 'readwrite', async (t) => {
      const refused = await t.get('rejected', seq);
      if (!refused) return null;
      await t.del('rejected', seq);
      const op = { ...refused, ...replacement, rev: 0, created_at: Date.now() };
      delete op.seq;
      delete op.message;
      delete op.rejected_at;
      delete op.deleted;
      const newSeq = await t.add('outbox', op);
      if (refused.deleted && refused.type === 'create') {
        await t.add('outbox', { type: 'flags', client_id: refused.client_id, session: refused.session, changes: { deleted: true }, rev: 0, created_at: Date.now() });
      }
      return newSeq;
    });
  }

  dropRejected(seq) { return this.backend.run(['rejected'], 'readwrite', (t) => t.del('rejected', seq)); }

  /* The rapporteur chose in a conflict: keep theirs (nothing queued) or send an edit (mine or merged). */
  resolveConflict(clientId, edit) {
    return this.backend.run(['outbox', 'conflicts'], 'readwrite', async (t) => {
      const conflict = await t.get('conflicts', clientId);
      if (!conflict) return null;
      await t.del('conflicts', clientId);
      if (!edit) return null;
      return t.add('outbox', {
        type: 'edit', client_id: clientId, session: conflict.session, rev: 0, created_at: Date.now(),
        changes: edit.changes, display: edit.display || {}, base_version: edit.base_version,
      });
    });
  }

  putItems(items) { return this.backend.run(['items'], 'readwrite', (t) => this._putItems(t, items)); }

  /* A fresh copy of a session's whole list (the feed from the start, as of `cursor`): replaces what
     was there, except copies newer than it (an answer that arrived while the list was on its way). */
  replaceSession(session, items, cursor) {
    return this.backend.run(['items'], 'readwrite', async (t) => {
      const known = await t.byIndex('items', 'session', session);
      const fresh = new Set(items.map((item) => item.client_id));
      for (const record of known) {
        const seq = Number(record.item && record.item.seq) || 0;
        if (!fresh.has(record.client_id) && seq > 0 && seq <= Number(cursor)) await t.del('items', record.client_id);
      }
      await this._putItems(t, items);
    });
  }

  async _putItems(t, items) {
    for (const item of items) {
      if (!item || !item.client_id) continue;
      const stored = await t.get('items', item.client_id);
      if (newer(stored, item)) await t.put('items', { client_id: item.client_id, session: item.session, item });
    }
  }
}

export const DATABASE_PREFIX = 'forum-notes:'; // + the event's slug
/* What may go when its user signs out (static/js/forget-staff-data.js): the server's copy of the notes and the feed cursors; never what waits to be sent. */
export const FORGET_ON_SIGN_OUT = ['items', 'meta'];

/* The store of one event on this device (IndexedDB, or memory when the browser refuses it). */
export async function openStore(slug) {
  if (typeof indexedDB !== 'undefined') {
    try {
      return new NotesStore(new IdbBackend(await openDatabase(DATABASE_PREFIX + slug)));
    } catch (error) {
      /* fall through: a page that keeps notes in memory still beats no page */
    }
  }
  return new NotesStore(new MemoryBackend());
}
