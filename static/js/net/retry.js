/* What the door station (checkin/engine.js) and the capture page (notes/sync.js) read in a server
   answer that asks them to come back later: a 429 (rate limited) or a 503 (database busy), and
   its Retry-After. Both queues wait at least that long before sending again. */

const RETRY_AFTER_MAX_MS = 600000; // a server asking for more than 10 minutes is not believed

/* 429 (rate limited) or 503 (database busy): the server is there and asks us to come back later. */
export function isBusyAnswer(status) {
  return status === 429 || status === 503;
}

/* How long the server asked us to wait (Retry-After, with a 429 or a 503), in ms: 0 when it did
   not say; at most RETRY_AFTER_MAX_MS whatever it says. */
export function retryAfterMs(headers) {
  const value = headers && typeof headers.get === 'function' ? headers.get('Retry-After') : null;
  if (!value) return 0;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(seconds * 1000, RETRY_AFTER_MAX_MS);
}
