/* What a check-in station keeps on the device, per event: IndexedDB database "forum-checkin:<slug>".

   kit       the last check-in kit (key "kit": {kit, etag, fetchedAt})
   queue     scans waiting to sync, oldest first (auto-increment `seq`; `client_id` unique):
             {seq, client_id, body (the JSON sent to the API), created_at}
   arrivals  people this device saw arrive, not yet in the kit (key "<door>|<registration id>",
             door "" = the entrance): {key, registration_id, door, at, station, client_id,
             checkin_id, pending (scan still queued), synced_at (ms, null while pending)}
   rejected  queued scans the server refused as bad input (kept, never resent): {client_id, body, answer}
   meta      small values (lastSyncAt)

   Without IndexedDB (some private modes) the same interface keeps everything in memory: the station
   works, but its queue does not survive a reload. */

const DB_VERSION = 1;

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

function openDatabase(name) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains('kit')) db.createObjectStore('kit');
      if (!db.objectStoreNames.contains('queue')) {
        const queue = db.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
        queue.createIndex('client_id', 'client_id', { unique: true });
      }
      if (!db.objectStoreNames.contains('arrivals')) db.createObjectStore('arrivals', { keyPath: 'key' });
      if (!db.objectStoreNames.contains('rejected')) db.createObjectStore('rejected', { keyPath: 'client_id' });
      if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta');
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab upgrading the schema: let it, this tab reopens on its next reload.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('IndexedDB blocked'));
  });
}

class IdbStore {
  constructor(db) {
    this.db = db;
    this.persistent = true;
  }

  async _get(storeName, key) {
    const tx = this.db.transaction(storeName, 'readonly');
    return promisify(tx.objectStore(storeName).get(key));
  }

  async _all(storeName) {
    const tx = this.db.transaction(storeName, 'readonly');
    return promisify(tx.objectStore(storeName).getAll());
  }

  async _put(storeName, value, key) {
    const tx = this.db.transaction(storeName, 'readwrite');
    if (key === undefined) tx.objectStore(storeName).put(value);
    else tx.objectStore(storeName).put(value, key);
    return done(tx);
  }

  getKit() { return this._get('kit', 'kit').then((value) => value || null); }
  putKit(record) { return this._put('kit', record, 'kit'); }
  getMeta(key) { return this._get('meta', key); }
  setMeta(key, value) { return this._put('meta', value, key); }

  /* The scan and (when the person now counts as arrived) their local arrival, in one transaction. */
  async enqueue(item, arrival) {
    const names = arrival ? ['queue', 'arrivals'] : ['queue'];
    const tx = this.db.transaction(names, 'readwrite');
    tx.objectStore('queue').add({ client_id: item.client_id, body: item.body, created_at: item.created_at });
    if (arrival) tx.objectStore('arrivals').put(arrival);
    return done(tx);
  }

  queue() { return this._all('queue'); } // keys ascending: oldest first

  async queueCount() {
    const tx = this.db.transaction('queue', 'readonly');
    return promisify(tx.objectStore('queue').count());
  }

  async dequeue(clientId) {
    const tx = this.db.transaction('queue', 'readwrite');
    const store = tx.objectStore('queue');
    const seq = await promisify(store.index('client_id').getKey(clientId));
    if (seq !== undefined) store.delete(seq);
    return done(tx);
  }

  async reject(item, answer) {
    const tx = this.db.transaction(['queue', 'rejected'], 'readwrite');
    const store = tx.objectStore('queue');
    const seq = await promisify(store.index('client_id').getKey(item.client_id));
    if (seq !== undefined) store.delete(seq);
    tx.objectStore('rejected').put({ client_id: item.client_id, body: item.body, answer });
    return done(tx);
  }

  async rejectedCount() {
    const tx = this.db.transaction('rejected', 'readonly');
    return promisify(tx.objectStore('rejected').count());
  }

  arrivals() { return this._all('arrivals'); }
  putArrival(arrival) { return this._put('arrivals', arrival); }

  async deleteArrivals(keys) {
    if (!keys.length) return undefined;
    const tx = this.db.transaction('arrivals', 'readwrite');
    const store = tx.objectStore('arrivals');
    keys.forEach((key) => store.delete(key));
    return done(tx);
  }
}

class MemoryStore {
  constructor() {
    this.persistent = false;
    this.kit = null;
    this.meta = new Map();
    this.items = [];
    this.seq = 0;
    this.arrivalMap = new Map();
    this.rejectedMap = new Map();
  }

  async getKit() { return this.kit; }
  async putKit(record) { this.kit = record; }
  async getMeta(key) { return this.meta.get(key); }
  async setMeta(key, value) { this.meta.set(key, value); }

  async enqueue(item, arrival) {
    if (this.items.some((known) => known.client_id === item.client_id)) throw new Error('duplicate client_id');
    this.seq += 1;
    this.items.push({ seq: this.seq, client_id: item.client_id, body: item.body, created_at: item.created_at });
    if (arrival) this.arrivalMap.set(arrival.key, arrival);
  }

  async queue() { return this.items.slice(); }
  async queueCount() { return this.items.length; }
  async dequeue(clientId) { this.items = this.items.filter((item) => item.client_id !== clientId); }

  async reject(item, answer) {
    await this.dequeue(item.client_id);
    this.rejectedMap.set(item.client_id, { client_id: item.client_id, body: item.body, answer });
  }

  async rejectedCount() { return this.rejectedMap.size; }
  async arrivals() { return Array.from(this.arrivalMap.values()); }
  async putArrival(arrival) { this.arrivalMap.set(arrival.key, arrival); }
  async deleteArrivals(keys) { keys.forEach((key) => this.arrivalMap.delete(key)); }
}

export const DATABASE_PREFIX = 'forum-checkin:'; // + the event's slug
/* What may go when its user signs out (static/js/forget-staff-data.js): the kit (names, organisations, workshops); never what waits to be sent. */
export const FORGET_ON_SIGN_OUT = ['kit'];

/* The store of one event on this device (IndexedDB, or memory when the browser refuses it). */
export async function openStore(slug) {
  if (typeof indexedDB !== 'undefined') {
    try {
      return new IdbStore(await openDatabase(DATABASE_PREFIX + slug));
    } catch (error) {
      /* fall through: a station without a persistent queue still beats no station */
    }
  }
  return new MemoryStore();
}
