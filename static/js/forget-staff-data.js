/* The sign-in page (where signing out lands): a phone lent for the morning keeps nothing of the
   event's people once its user has signed out. From this device's IndexedDB it erases the door
   station's kit (names, organisations, workshops: static/js/checkin/store.js, "forum-checkin:<slug>")
   and the capture page's copy of the notes and its feed cursors (static/js/notes/store.js,
   "forum-notes:<slug>"). What was not sent yet stays (queued scans, notes waiting, edits in
   conflict): it is the last copy of someone's work, and it goes at the next sign-in. The next
   station or capture page downloads what it needs again. */

import * as checkinStore from './checkin/store.js';
import * as notesStore from './notes/store.js';

const WHAT_TO_FORGET = [checkinStore, notesStore].map((store) => (
  { prefix: store.DATABASE_PREFIX, stores: store.FORGET_ON_SIGN_OUT }
));

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function forget(name, stores) {
  const db = await request(indexedDB.open(name)); // no version: never upgrades nor creates stores
  try {
    const present = stores.filter((store) => db.objectStoreNames.contains(store));
    if (!present.length) return;
    const tx = db.transaction(present, 'readwrite');
    present.forEach((store) => tx.objectStore(store).clear());
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export async function forgetStaffData() {
  if (typeof indexedDB === 'undefined' || typeof indexedDB.databases !== 'function') return [];
  const databases = await indexedDB.databases();
  const done = [];
  for (const { name } of databases) {
    const rule = WHAT_TO_FORGET.find((r) => name && name.startsWith(r.prefix));
    if (!rule) continue;
    try {
      await forget(name, rule.stores);
      done.push(name);
    } catch (error) {
      // Another tab holds the database open for an upgrade: it is cleared on the next visit here.
    }
  }
  document.documentElement.dataset.staffDataForgotten = done.join(' ');
  return done;
}

forgetStaffData();
