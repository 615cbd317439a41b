/* Badges read on the device, for a station without network. Pure: no DOM, no storage, no fetch
   (except loading the Ed25519 fallback library when the browser lacks WebCrypto Ed25519).

   Mirrors forum_app/badges/domain.py (read_badge, badge_status) and forum_app/checkin/domain.py
   (decide): the same text gives the same verdict here and on the server.

     text      = "FA:" + BASE32(payload + signature)   RFC 4648, upper case, no padding, canonical
     payload   = version u8, event id u16, key id u8, registration id u32, serial u16 (big-endian, 10 bytes)
     signature = Ed25519 over the payload, 64 bytes */

export const PREFIX = 'FA:';
export const VERSION = 1;
export const PAYLOAD_SIZE = 10;
export const SIGNATURE_SIZE = 64;
export const MAX_TEXT_LENGTH = 256;

// Badge statuses (badges/domain.py) and door outcomes (checkin/domain.py).
export const VALID = 'valid';
export const CHECKED_IN = 'checked_in';
export const ALREADY_CHECKED_IN = 'already_checked_in';
export const INVALID = 'invalid';
export const REVOKED = 'revoked';
export const CANCELLED = 'cancelled';
export const WRONG_EVENT = 'wrong_event';
export const NOT_CONFIRMED = 'not_confirmed';
export const NOT_SIGNED_UP = 'not_signed_up';
export const COUNTED = [CHECKED_IN, ALREADY_CHECKED_IN];
const BADGE_REFUSALS = {
  invalid: INVALID, revoked: REVOKED, cancelled: CANCELLED, wrong_event: WRONG_EVENT, not_confirmed: NOT_CONFIRMED,
};

/* Why a text is not a trustworthy badge (every reason is the outcome "invalid" at the door). */
export class BadgeError extends Error {
  constructor(reason, message) {
    super(message || reason);
    this.name = 'BadgeError';
    this.reason = reason; // malformed, unknown_version, unknown_key, bad_signature
    this.outcome = INVALID;
  }
}

// --- Base32 (RFC 4648), canonical spelling only ---

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BODY = /^[A-Z2-7]+$/;

/* Bytes of an upper-case, unpadded base32 text, or null when it is not the one canonical spelling
   of some bytes (bad characters, an impossible length, stray bits in the last character). */
export function base32Decode(body) {
  if (typeof body !== 'string' || !BODY.test(body) || [1, 3, 6].includes(body.length % 8)) return null;
  const out = new Uint8Array(Math.floor((body.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const ch of body) {
    buffer = ((buffer << 5) | ALPHABET.indexOf(ch)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index] = (buffer >> bits) & 0xff;
      index += 1;
    }
  }
  if (bits > 0 && (buffer & ((1 << bits) - 1)) !== 0) return null; // another spelling of the same bytes
  return out;
}

export function base32Encode(bytes) {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

// --- Reading ---

/* {claims, payload, signature} of a well-formed badge, signature NOT checked (Python's _decode).
   Throws BadgeError (malformed, unknown_version). */
export function decodeBadge(text) {
  if (typeof text !== 'string') throw new BadgeError('malformed', 'a badge is text');
  const trimmed = text.trim();
  if (trimmed.length > MAX_TEXT_LENGTH) throw new BadgeError('malformed', 'too long');
  if (!trimmed.startsWith(PREFIX)) throw new BadgeError('malformed', 'not a badge of this forum');
  const data = base32Decode(trimmed.slice(PREFIX.length));
  if (data === null) throw new BadgeError('malformed', 'not canonical base32');
  if (data.length === 0) throw new BadgeError('malformed', 'empty');
  if (data[0] !== VERSION) throw new BadgeError('unknown_version', 'payload version ' + data[0]);
  if (data.length !== PAYLOAD_SIZE + SIGNATURE_SIZE) {
    throw new BadgeError('malformed', data.length < PAYLOAD_SIZE + SIGNATURE_SIZE ? 'truncated' : 'too long');
  }
  const payload = data.slice(0, PAYLOAD_SIZE);
  const signature = data.slice(PAYLOAD_SIZE);
  const view = new DataView(payload.buffer);
  const claims = {
    version: view.getUint8(0),
    event_id: view.getUint16(1),
    key_id: view.getUint8(3),
    registration_id: view.getUint32(4),
    serial: view.getUint16(8),
  };
  return { claims, payload, signature };
}

export function peekBadge(text) {
  return decodeBadge(text).claims;
}

/* The claims of a badge whose signature verifies with one of `publicKeys` (a Map or object:
   key id -> 32 raw bytes, or the kit's base64 text). Throws BadgeError, never anything else. */
export async function readBadge(text, publicKeys) {
  const { claims, payload, signature } = decodeBadge(text);
  const raw = lookupKey(publicKeys, claims.key_id);
  if (raw === undefined || raw === null) throw new BadgeError('unknown_key', 'no public key ' + claims.key_id);
  let bytes;
  try {
    bytes = typeof raw === 'string' ? base64Decode(raw) : new Uint8Array(raw);
  } catch (error) {
    throw new BadgeError('unknown_key', 'public key ' + claims.key_id + ' is not readable');
  }
  if (bytes.length !== 32) throw new BadgeError('unknown_key', 'public key ' + claims.key_id + ' is not 32 bytes');
  let good;
  try {
    good = await verifyEd25519(bytes, signature, payload);
  } catch (error) {
    if (error instanceof BadgeError) throw error;
    throw new BadgeError('unknown_key', 'public key ' + claims.key_id + ' cannot verify');
  }
  if (!good) throw new BadgeError('bad_signature', 'the signature does not match');
  return claims;
}

function lookupKey(keys, keyId) {
  if (!keys) return undefined;
  if (keys instanceof Map) return keys.get(keyId);
  return keys[keyId];
}

export function base64Decode(text) {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
  return out;
}

// --- Judging (badges/domain.py badge_status, checkin/domain.py decide) ---

/* What a verified badge means at the door of event `eventId`. */
export function badgeStatus(claims, currentSerial, registrationStatus, eventId) {
  if (claims.event_id !== eventId) return WRONG_EVENT;
  if (currentSerial === null || currentSerial === undefined || registrationStatus === null || registrationStatus === undefined) {
    return INVALID;
  }
  if (registrationStatus === 'cancelled' || registrationStatus === 'rejected') return CANCELLED;
  if (claims.serial < currentSerial) return REVOKED;
  if (claims.serial > currentSerial) return INVALID;
  if (registrationStatus === 'pending') return NOT_CONFIRMED;
  if (registrationStatus === 'confirmed') return VALID;
  return INVALID;
}

/* What a scan means at the door: {outcome, forced}. */
export function decide(status, { alreadyArrived = false, sessionGiven = false, seatHeld = true, force = false } = {}) {
  if (status !== VALID) {
    if (!(status in BADGE_REFUSALS)) throw new Error('unknown badge status ' + status);
    return { outcome: BADGE_REFUSALS[status], forced: false };
  }
  if (alreadyArrived) return { outcome: ALREADY_CHECKED_IN, forced: false };
  if (sessionGiven && !seatHeld) {
    if (force) return { outcome: CHECKED_IN, forced: true };
    return { outcome: NOT_SIGNED_UP, forced: false };
  }
  return { outcome: CHECKED_IN, forced: false };
}

/* The status of a registration found by name (no badge: no serial to compare). */
export function registrationStatus(entry) {
  if (!entry) return INVALID;
  if (entry.status === 'cancelled' || entry.status === 'rejected') return CANCELLED;
  if (entry.status === 'pending') return NOT_CONFIRMED;
  if (entry.status === 'confirmed') return VALID;
  return INVALID;
}

/* The keys of a check-in kit as readBadge takes them: Map key id -> raw bytes. */
export function kitKeys(kit) {
  const keys = new Map();
  ((kit && kit.public_keys) || []).forEach((key) => {
    try {
      keys.set(key.key_id, base64Decode(key.public_key));
    } catch (error) { /* an unreadable key verifies nothing */ }
  });
  return keys;
}

/* What a badge text means with the check-in kit of this event, on the device:
   {status, claims (null when unreadable), entry (the roster entry, or null), reason, inKit}.

   Two cases differ from the server by necessity, and the server judges again at sync:
   - a badge naming another event is `wrong_event` without its signature checked (the kit holds
     only this event's keys; the server says `invalid` when it is also forged);
   - a genuine badge of a registration missing from the kit (registered after the kit was
     fetched) is `valid` with `inKit: false` and no entry: its signature proves the organisers
     issued it. */
export async function judgeBadge(text, kit, keys) {
  const eventId = kit && kit.event ? kit.event.id : null;
  let claims;
  try {
    claims = peekBadge(text);
  } catch (error) {
    return { status: INVALID, claims: null, entry: null, reason: error.reason || 'malformed', inKit: true };
  }
  if (claims.event_id !== eventId) return { status: WRONG_EVENT, claims, entry: null, reason: 'other_event', inKit: true };
  try {
    claims = await readBadge(text, keys || kitKeys(kit));
  } catch (error) {
    return { status: INVALID, claims, entry: null, reason: error.reason || 'bad_signature', inKit: true };
  }
  const entry = ((kit && kit.roster) || []).find((person) => person.id === claims.registration_id) || null;
  if (entry) {
    const status = badgeStatus(claims, entry.serial, entry.status, eventId);
    return { status, claims, entry: status === INVALID ? null : entry, reason: status, inKit: true };
  }
  if (((kit && kit.cancelled) || []).includes(claims.registration_id)) {
    return { status: CANCELLED, claims, entry: null, reason: 'erased', inKit: true };
  }
  const revoked = ((kit && kit.revoked) || []).find((item) => item.registration_id === claims.registration_id);
  if (revoked && claims.serial < revoked.serial) return { status: REVOKED, claims, entry: null, reason: 'revoked', inKit: true };
  if (revoked && claims.serial > revoked.serial) return { status: INVALID, claims, entry: null, reason: 'serial', inKit: true };
  return { status: VALID, claims, entry: null, reason: 'not_in_kit', inKit: false };
}

// --- Ed25519 ---

let webCryptoWorks = null; // null: not tried yet
const importedKeys = new Map(); // hex of the raw key -> CryptoKey
let noble = null;

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/* Whether `signature` (64 bytes) over `message` verifies with the raw 32-byte `publicKey`.
   WebCrypto Ed25519 where the browser has it; otherwise @noble/ed25519 (static/vendor), strict
   RFC 8032 mode like the server's `cryptography`. */
export async function verifyEd25519(publicKey, signature, message) {
  if (webCryptoWorks !== false && globalThis.crypto && globalThis.crypto.subtle) {
    try {
      const id = hex(publicKey);
      let key = importedKeys.get(id);
      if (!key) {
        key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
        importedKeys.set(id, key);
      }
      const good = await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
      webCryptoWorks = true;
      return good;
    } catch (error) {
      if (webCryptoWorks === true) throw error; // the algorithm works: this key is broken
      webCryptoWorks = false;
    }
  }
  const ed = await loadNoble();
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch (error) {
    return false;
  }
}

/* Which implementation verifies signatures in this browser: "webcrypto" or "noble". */
export function verifierName() {
  return webCryptoWorks === false ? 'noble' : 'webcrypto';
}

/* For tests: forget what was detected and use (or not) WebCrypto from now on. */
export function useWebCrypto(enabled) {
  webCryptoWorks = enabled ? null : false;
  importedKeys.clear();
}

async function loadNoble() {
  if (noble) return noble;
  const url = new URL('../../vendor/noble-ed25519.js', import.meta.url);
  const module = await import(url.href);
  // noble's synchronous API needs a SHA-512: ours, pure JavaScript (crypto.subtle may be missing
  // outside secure contexts, which is also why WebCrypto Ed25519 was not there).
  if (module.hashes && !module.hashes.sha512) module.hashes.sha512 = sha512;
  noble = module;
  return noble;
}

// --- SHA-512 (FIPS 180-4), for the fallback only: BigInt, small inputs ---

const MASK = (1n << 64n) - 1n;
const K = [
  '428a2f98d728ae22', '7137449123ef65cd', 'b5c0fbcfec4d3b2f', 'e9b5dba58189dbbc', '3956c25bf348b538', '59f111f1b605d019',
  '923f82a4af194f9b', 'ab1c5ed5da6d8118', 'd807aa98a3030242', '12835b0145706fbe', '243185be4ee4b28c', '550c7dc3d5ffb4e2',
  '72be5d74f27b896f', '80deb1fe3b1696b1', '9bdc06a725c71235', 'c19bf174cf692694', 'e49b69c19ef14ad2', 'efbe4786384f25e3',
  '0fc19dc68b8cd5b5', '240ca1cc77ac9c65', '2de92c6f592b0275', '4a7484aa6ea6e483', '5cb0a9dcbd41fbd4', '76f988da831153b5',
  '983e5152ee66dfab', 'a831c66d2db43210', 'b00327c898fb213f', 'bf597fc7beef0ee4', 'c6e00bf33da88fc2', 'd5a79147930aa725',
  '06ca6351e003826f', '142929670a0e6e70', '27b70a8546d22ffc', '2e1b21385c26c926', '4d2c6dfc5ac42aed', '53380d139d95b3df',
  '650a73548baf63de', '766a0abb3c77b2a8', '81c2c92e47edaee6', '92722c851482353b', 'a2bfe8a14cf10364', 'a81a664bbc423001',
  'c24b8b70d0f89791', 'c76c51a30654be30', 'd192e819d6ef5218', 'd69906245565a910', 'f40e35855771202a', '106aa07032bbd1b8',
  '19a4c116b8d2d0c8', '1e376c085141ab53', '2748774cdf8eeb99', '34b0bcb5e19b48a8', '391c0cb3c5c95a63', '4ed8aa4ae3418acb',
  '5b9cca4f7763e373', '682e6ff3d6b2b8a3', '748f82ee5defb2fc', '78a5636f43172f60', '84c87814a1f0ab72', '8cc702081a6439ec',
  '90befffa23631e28', 'a4506cebde82bde9', 'bef9a3f7b2c67915', 'c67178f2e372532b', 'ca273eceea26619c', 'd186b8c721c0c207',
  'eada7dd6cde0eb1e', 'f57d4f7fee6ed178', '06f067aa72176fba', '0a637dc5a2c898a6', '113f9804bef90dae', '1b710b35131c471b',
  '28db77f523047d84', '32caab7b40c72493', '3c9ebe0a15c9bebc', '431d67c49c100d4c', '4cc5d4becb3e42b6', '597f299cfc657e2a',
  '5fcb6fab3ad6faec', '6c44198c4a475817',
].map((h) => BigInt('0x' + h));
const H0 = [
  '6a09e667f3bcc908', 'bb67ae8584caa73b', '3c6ef372fe94f82b', 'a54ff53a5f1d36f1',
  '510e527fade682d1', '9b05688c2b3e6c1f', '1f83d9abfb41bd6b', '5be0cd19137e2179',
].map((h) => BigInt('0x' + h));

const rotr = (x, n) => ((x >> n) | (x << (64n - n))) & MASK;

export function sha512(message) {
  const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
  const length = bytes.length;
  const padded = new Uint8Array(Math.ceil((length + 17) / 128) * 128);
  padded.set(bytes);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  const bitLength = BigInt(length) * 8n;
  view.setBigUint64(padded.length - 8, bitLength & MASK);
  const h = H0.slice();
  const w = new Array(80);
  for (let offset = 0; offset < padded.length; offset += 128) {
    for (let t = 0; t < 16; t += 1) w[t] = view.getBigUint64(offset + t * 8);
    for (let t = 16; t < 80; t += 1) {
      const s0 = rotr(w[t - 15], 1n) ^ rotr(w[t - 15], 8n) ^ (w[t - 15] >> 7n);
      const s1 = rotr(w[t - 2], 19n) ^ rotr(w[t - 2], 61n) ^ (w[t - 2] >> 6n);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) & MASK;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let t = 0; t < 80; t += 1) {
      const S1 = rotr(e, 14n) ^ rotr(e, 18n) ^ rotr(e, 41n);
      const ch = (e & f) ^ (~e & MASK & g);
      const temp1 = (hh + S1 + ch + K[t] + w[t]) & MASK;
      const S0 = rotr(a, 28n) ^ rotr(a, 34n) ^ rotr(a, 39n);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const temp2 = (S0 + maj) & MASK;
      hh = g; g = f; f = e; e = (d + temp1) & MASK; d = c; c = b; b = a; a = (temp1 + temp2) & MASK;
    }
    h[0] = (h[0] + a) & MASK; h[1] = (h[1] + b) & MASK; h[2] = (h[2] + c) & MASK; h[3] = (h[3] + d) & MASK;
    h[4] = (h[4] + e) & MASK; h[5] = (h[5] + f) & MASK; h[6] = (h[6] + g) & MASK; h[7] = (h[7] + hh) & MASK;
  }
  const out = new Uint8Array(64);
  const outView = new DataView(out.buffer);
  h.forEach((value, i) => outView.setBigUint64(i * 8, value));
  return out;
}
