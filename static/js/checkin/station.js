/* Door check-in station: the screen volunteers and organisers use at the door, on a phone.

   Three ways in: the camera (BarcodeDetector, or the vendored polyfill where the browser has
   none or no QR support), a handheld scanner that types the code and Enter into a focused field,
   and a search by name with a one-tap check-in. The answer fills the screen (green, amber, red,
   with words and an icon), beeps and vibrates, and clears itself on a tap, on the next badge or
   after a few seconds. The work itself (API, offline kit, queue, sync) is engine.js's.

   Configuration and texts come from data-* attributes of #station (translated on the server). */

const REARM_MS = 1000;          // after a camera hit, the next badge is read 1 s later at the earliest
const GONE_MS = 1500;           // a badge held in front of the camera counts again only once out of view that long
const FRAME_MS = 150;           // camera detection interval
const ANSWER_MS = 4000;         // an answer clears itself after 4 s...
const ANSWER_ACTIONS_MS = 8000; // ...8 s when it offers an organiser's action
const SEARCH_LIMIT = 8;
const OK = 'checked_in';
const ALREADY = 'already_checked_in';
const UNVERIFIED = 'unknown'; // offline, and no check-in kit on this device yet: queued unverified
const REFUSALS = ['invalid', 'revoked', 'cancelled', 'wrong_event', 'not_confirmed', 'not_signed_up'];

const root = document.getElementById('station');
if (root) start(root);

async function start(root) {
  const cfg = root.dataset;
  const texts = JSON.parse(cfg.texts || '{}');
  const T = (key, vars) => fill(texts[key] || key, vars || {});
  const locale = cfg.locale || document.documentElement.lang || 'fr';
  const clock = clockFormatter(cfg.timezone, locale);
  const $ = (selector, scope) => (scope || document).querySelector(selector);

  const els = {
    door: $('[data-door]', root),
    stationName: $('[data-station-name]', root),
    camera: $('[data-camera]', root),
    video: $('[data-video]', root),
    scan: $('[data-scan]', root),
    scanLabel: $('[data-scan-label]', root),
    pause: $('[data-pause]', root),
    cameraStatus: $('[data-camera-status]', root),
    handheld: $('[data-handheld]', root),
    badge: $('[data-badge-input]', root),
    keyboard: $('[data-keyboard]', root),
    search: $('[data-search]', root),
    searchNote: $('[data-search-note]', root),
    results: $('[data-results]', root),
    kit: $('[data-kit]', root),
    region: $('[data-answer-region]'),
    net: $('[data-net]'),
    netText: $('[data-net-text]'),
    netLogin: $('[data-net-login]'),
    mute: $('[data-mute]'),
  };
  const resultTemplate = $('#result-template');
  const answerTemplate = $('#answer-template');
  const organiser = cfg.role === 'organiser';
  const store = deviceStore('forum-checkin:' + cfg.slug + ':');

  root.hidden = false;

  // ---- settings remembered on this device: door, station name, sound
  const doorCodes = Array.from(els.door.options, (option) => option.value);
  const savedDoor = store.get('door') || '';
  els.door.value = doorCodes.includes(savedDoor) ? savedDoor : '';
  els.stationName.value = store.get('station') || '';
  let muted = store.get('muted') === '1';
  renderMute();
  els.mute.hidden = false;

  // While the server asks us to wait (429/503), a countdown to the next attempt, redrawn each second
  // by one timer. It is aria-hidden: the status line is a live region, which should not speak every second.
  const countdown = document.createElement('span');
  countdown.className = 'net-countdown';
  countdown.setAttribute('aria-hidden', 'true');
  let busyTicker = 0;
  let retryAt = null;

  // ---- the engine
  let station;
  try {
    const engine = await import(cfg.engineUrl);
    station = await engine.createStation({
      slug: cfg.slug,
      apiBase: cfg.apiBase,
      csrfToken: cfg.csrfToken,
      stationName: els.stationName.value.trim(),
      session: els.door.value || null,
      role: cfg.role,
      userId: Number(cfg.userId) || null,
      messages: {
        undoOffline: T('engine_undo_offline'),
        undoNotAllowed: T('engine_undo_not_allowed'),
        undoFailed: T('engine_undo_failed'),
        undoDone: T('engine_undo_done'),
        network: T('engine_network'),
      },
    });
  } catch (error) {
    els.kit.textContent = T('error', { message: String((error && error.message) || error) });
    els.kit.classList.add('is-problem');
    return;
  }
  root.dataset.ready = 'true';

  station.addEventListener('status', renderStatus);
  station.addEventListener('synced', onSynced);
  renderStatus();

  els.door.addEventListener('change', () => {
    store.set('door', els.door.value);
    station.setSession(els.door.value || null);
    focusBadge();
  });
  els.stationName.addEventListener('input', () => {
    const name = els.stationName.value.trim();
    store.set('station', name);
    station.setStationName(name);
  });
  els.stationName.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') { event.preventDefault(); focusBadge(); }
  });
  els.mute.addEventListener('click', () => {
    muted = !muted;
    store.set('muted', muted ? '1' : '0');
    renderMute();
  });

  // ---- handheld scanners (and pasted codes): the code, then Enter
  els.handheld.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = els.badge.value.trim();
    els.badge.value = '';
    if (text) scanBadge(text, 'handheld');
    focusBadge();
  });
  els.keyboard.addEventListener('click', () => {
    els.badge.inputMode = 'text';
    els.badge.focus();
  });
  // A scanner types wherever the focus is: keys typed while no field has it go to the badge field.
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && currentAnswer) { dismiss(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1 || event.key === ' ') return;
    const active = document.activeElement;
    if (active && active.closest('input, select, textarea, [contenteditable]')) return;
    els.badge.focus({ preventScroll: true });
  }, true);

  // ---- search by name, one tap to check in
  let searchTimer = 0;
  els.search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(renderResults, 120);
  });
  els.search.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') { event.preventDefault(); clearTimeout(searchTimer); renderResults(); }
  });

  function renderResults() {
    const query = els.search.value.trim();
    els.results.replaceChildren();
    els.searchNote.textContent = '';
    if (query.length < 2) return;
    const entries = station.search(query, SEARCH_LIMIT) || [];
    if (!entries.length) {
      els.searchNote.textContent = station.status().kitVersion ? T('no_result') : T('search_needs_kit');
      return;
    }
    for (const entry of entries) {
      const item = resultTemplate.content.firstElementChild.cloneNode(true);
      $('[data-name]', item).textContent = entry.name;
      const meta = [entry.organisation, entry.category_label];
      if (entry.status === 'pending') meta.push(T('status_pending'));
      if (entry.status === 'cancelled' || entry.status === 'rejected') meta.push(T('status_cancelled'));
      $('[data-meta]', item).textContent = meta.filter(Boolean).join(' · ');
      if (entry.checked_in_at) {
        $('[data-arrived]', item).hidden = false;
        $('[data-arrived-text]', item).textContent = T('arrived_at', { time: clock(entry.checked_in_at) });
      }
      const button = $('[data-check-in]', item);
      button.append(T('check_in'));
      const who = document.createElement('span');
      who.className = 'visually-hidden';
      who.textContent = ' : ' + entry.name;
      button.append(who);
      button.addEventListener('click', () => {
        els.search.value = '';
        els.results.replaceChildren();
        checkInRegistration(entry.id);
        focusBadge();
      });
      els.results.append(item);
    }
  }

  // ---- asking the engine
  let sequence = 0;

  function scanBadge(text, via, force) {
    act({ kind: 'badge', value: text, via }, () => station.scan(text, { force: !!force }));
  }

  function checkInRegistration(id, force) {
    act({ kind: 'registration', value: id, via: 'search' }, () => station.checkInRegistration(id, { force: !!force }));
  }

  async function act(request, call) {
    const mine = ++sequence;
    unlockAudio();
    let answer;
    try {
      answer = await call();
    } catch (error) {
      if (mine === sequence) showProblem(String((error && error.message) || error));
      return;
    }
    if (mine !== sequence) return; // a newer badge already has the screen
    showAnswer(answer, request);
  }

  // ---- the answer
  let currentAnswer = null;
  let answerTimer = 0;

  function showAnswer(answer, request, { silent = false } = {}) {
    if (!answer || !answer.outcome) {
      // A request the server refused (bad input, no right): its JSON error, in the user's language.
      showProblem((answer && answer.message) || T('unknown_outcome'));
      return;
    }
    const outcome = answer.outcome;
    const unverified = outcome === UNVERIFIED;
    const known = outcome === OK || outcome === ALREADY || REFUSALS.includes(outcome);
    const tone = outcome === OK ? 'ok' : outcome === ALREADY || unverified ? 'warn' : 'error';
    const node = answerTemplate.content.firstElementChild.cloneNode(true);
    node.classList.add('answer-' + tone);
    node.dataset.outcome = outcome || 'unknown';
    if (answer.offline) node.dataset.offline = 'true';
    const part = (name) => $('[data-' + name + ']', node);
    const show = (name, text) => {
      const element = part(name);
      element.textContent = text;
      element.hidden = !text;
      return element;
    };
    const person = answer.attendee || null;

    part('icon').textContent = tone === 'ok' ? '✓' : unverified ? '?' : tone === 'warn' ? '!' : '✕';
    if (outcome === OK) {
      show('title', T('checked_in'));
      if (answer.forced) show('reason', T('checked_in_forced'));
      else if (answer.in_kit === false) show('reason', T('not_in_kit'));
    } else if (unverified) {
      show('title', T('unverified'));
      show('reason', T('unverified_reason'));
    } else if (outcome === ALREADY) {
      const time = clock(answer.first_checked_in_at || answer.scanned_at);
      const where = answer.first_station || '';
      show('title', where ? T('already', { time, station: where }) : T('already_no_station', { time }));
    } else {
      show('title', T('refused'));
      show('reason', known ? T(outcome) : T('unknown_outcome'));
    }
    if (person) {
      show('name', person.name || '');
      show('org', [person.job_title, person.organisation].filter(Boolean).join(', '));
      if (outcome === OK || outcome === ALREADY) {
        const category = show('category', person.category_label || '');
        category.title = T('category');
      }
      if (outcome === OK && person.workshops && person.workshops.length) {
        part('workshops').hidden = false;
        part('workshops-title').textContent = T('workshops');
        const list = part('workshop-list');
        for (const workshop of person.workshops) {
          const item = document.createElement('li');
          const code = document.createElement('span');
          code.className = 'ws-code';
          code.textContent = workshop.code;
          item.append(code, ' ');
          if (workshop.starts_at) {
            const time = document.createElement('span');
            time.className = 'ws-time';
            time.textContent = clock(workshop.starts_at);
            item.append(time, ' ');
          }
          if (workshop.title && workshop.title !== workshop.code) item.append(workshop.title);
          if (workshop.seat === 'waitlisted') item.append(' (' + T('waitlisted') + ')');
          list.append(item);
        }
      }
    }
    if (answer.offline) {
      part('offline').hidden = false;
      part('offline-text').textContent = answer.queued === false ? T('not_queued') : T('offline_note');
    }

    // Organisers' actions
    const actions = [];
    const online = station.status().online;
    if (organiser && outcome === 'not_signed_up' && request) {
      const force = show('force', T('force'));
      force.addEventListener('click', () => {
        if (request.kind === 'badge') scanBadge(request.value, request.via, true);
        else checkInRegistration(request.value, true);
      });
      actions.push(force);
    }
    if (organiser && (outcome === OK || outcome === ALREADY) && answer.checkin_id && !answer.offline) {
      const undo = show('undo', T('undo'));
      undo.addEventListener('click', async () => {
        undo.disabled = true;
        holdAnswer();
        let result;
        try {
          result = await station.undo(answer.checkin_id);
        } catch (error) {
          result = { ok: false, message: String((error && error.message) || error) };
        }
        show('message', result.ok ? T('undone') : T('undo_failed', { message: result.message || '' }));
        if (result.ok) undo.hidden = true; else undo.disabled = false;
        armAnswerTimer(ANSWER_ACTIONS_MS);
      });
      actions.push(undo);
    }
    if (organiser && person && person.registration_id && (outcome === OK || outcome === ALREADY) && online) {
      const form = part('reprint');
      const id = String(person.registration_id);
      form.action = cfg.reissueUrl.replace(cfg.idPlaceholder, id);
      part('reprint-next').value = cfg.badgePdfUrl.replace(cfg.idPlaceholder, id);
      part('reprint-button').textContent = T('reprint');
      part('reprint-hint').textContent = T('reprint_hint');
      form.hidden = false;
      form.addEventListener('submit', () => holdAnswer());
      actions.push(form);
    }
    part('actions').hidden = actions.length === 0;
    part('dismiss').textContent = T('dismiss');

    node.addEventListener('click', (event) => {
      if (event.target.closest('[data-actions]')) return;
      dismiss();
    });
    node.addEventListener('focusin', (event) => {
      if (event.target.closest('[data-actions]')) holdAnswer();
    });

    currentAnswer = { answer, request, node };
    els.region.replaceChildren(node);
    armAnswerTimer(actions.length ? ANSWER_ACTIONS_MS : ANSWER_MS);
    if (!silent) feedback(tone);
    keepFocus(request);
  }

  function showProblem(message) {
    showAnswer({ outcome: 'error', attendee: null }, null);
    const node = currentAnswer.node;
    node.classList.remove('answer-error');
    node.classList.add('answer-neutral');
    $('[data-title]', node).textContent = T('error', { message });
    $('[data-reason]', node).hidden = true;
  }

  function armAnswerTimer(ms) {
    clearTimeout(answerTimer);
    answerTimer = setTimeout(dismiss, ms);
  }

  function holdAnswer() {
    clearTimeout(answerTimer);
  }

  function dismiss() {
    clearTimeout(answerTimer);
    currentAnswer = null;
    els.region.replaceChildren();
    focusBadge();
  }

  function onSynced(event) {
    const detail = event.detail || {};
    if (currentAnswer && currentAnswer.answer.client_id && currentAnswer.answer.client_id === detail.client_id && detail.answer) {
      const before = currentAnswer.answer;
      const after = { ...detail.answer, offline: false, client_id: detail.client_id };
      if (after.outcome !== before.outcome || !before.checkin_id) showAnswer(after, currentAnswer.request, { silent: true });
    }
    if (els.search.value.trim().length >= 2) renderResults();
  }

  function keepFocus(request) {
    const active = document.activeElement;
    const busyElsewhere = active && active !== els.badge && (active === els.stationName || active === els.door ||
      (active === els.search && !(request && request.via === 'search')));
    if (!busyElsewhere) focusBadge();
  }

  function focusBadge() {
    els.badge.focus({ preventScroll: true });
  }

  // ---- network state, queue, kit
  function renderStatus() {
    const state = station.status();
    const pending = Number(state.pending) || 0;
    const queued = pending ? T(pluralKey(locale, pending), { n: pending }) : T('all_sent');
    const busy = Boolean(state.busy) && !state.authProblem;
    let tone = state.online ? 'net-online' : 'net-offline';
    let text = (state.online ? T('online') : T('offline')) + ' · ' + queued;
    if (state.rejected) text += ' · ' + T('rejected', { n: state.rejected });
    if (state.authProblem) {
      tone = 'net-auth';
      text = T('auth_problem') + (pending ? ' · ' + queued : '');
    }
    if (busy) {
      // The network is fine: the server (rate limit, database busy) asked us to come back shortly.
      tone = 'net-busy';
      retryAt = state.retryAt;
      tickCountdown();
      const rest = queued + (state.rejected ? ' · ' + T('rejected', { n: state.rejected }) : '');
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
    els.netLogin.hidden = !state.authProblem;
    els.net.hidden = false;
    els.kit.textContent = state.kitFetchedAt ? T('kit_at', { time: clock(state.kitFetchedAt) }) : T('kit_none');
  }

  /* "nouvel essai dans 12 s · ", or "nouvel essai en cours · " once that time has come. */
  function tickCountdown() {
    const seconds = Math.ceil(((Number(retryAt) || 0) - Date.now()) / 1000);
    const text = seconds > 0 ? T('busy_retry_in', { n: seconds }).replace(/(\d) /g, '$1\u00a0') : T('busy_retrying');
    countdown.textContent = text + ' · '; // "3 s" never split over two lines
  }

  function renderMute() {
    els.mute.setAttribute('aria-pressed', muted ? 'true' : 'false');
  }

  // ---- sound and vibration
  let audio = null;

  function unlockAudio() {
    if (!audio) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      try { audio = new Context(); } catch (error) { return; }
    }
    if (audio.state === 'suspended') audio.resume().catch(() => {});
  }
  document.addEventListener('pointerdown', unlockAudio, { capture: true, passive: true });
  document.addEventListener('keydown', unlockAudio, { capture: true, passive: true });

  function beep(frequency, at, duration, type) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = type;
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.35, at + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + duration);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(at);
    oscillator.stop(at + duration + 0.02);
  }

  function feedback(tone) {
    if (!muted && audio && audio.state === 'running') {
      const now = audio.currentTime;
      if (tone === 'ok') beep(1320, now, 0.15, 'sine');
      else if (tone === 'warn') { beep(660, now, 0.12, 'triangle'); beep(660, now + 0.18, 0.12, 'triangle'); }
      else { beep(220, now, 0.18, 'square'); beep(220, now + 0.26, 0.18, 'square'); }
    }
    if (!muted && navigator.vibrate) {
      try { navigator.vibrate(tone === 'ok' ? 80 : tone === 'warn' ? [80, 80, 80] : [200, 100, 200]); } catch (error) { /* not allowed */ }
    }
  }

  // ---- the camera
  let detector = null;
  let stream = null;
  let running = false;
  let paused = false;
  let frameTimer = 0;
  let armedAt = 0;
  let lastCode = '';
  let lastCodeSeenAt = -Infinity;
  let polyfill = null;
  // The ZXing WebAssembly comes from our own static/ (never a CDN): offline, and the CSP.
  const wasmUrl = new URL(cfg.wasmUrl, window.location.href).href;
  const zxingOverrides = { locateFile: (path, prefix) => (path.endsWith('.wasm') ? wasmUrl : prefix + path) };

  function loadPolyfill() {
    if (!polyfill) {
      polyfill = import(cfg.polyfillUrl).then((module) => {
        module.prepareZXingModule({ overrides: zxingOverrides });
        if (!('BarcodeDetector' in window)) window.BarcodeDetector = module.BarcodeDetector;
        return module;
      });
    }
    return polyfill;
  }

  async function nativeQrDetector() {
    if (!('BarcodeDetector' in window) || window.BarcodeDetector === (polyfill && (await polyfill).BarcodeDetector)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes('qr_code') ? window.BarcodeDetector : null;
    } catch (error) {
      return null;
    }
  }

  async function getDetector() {
    if (detector) return detector;
    let Detector = await nativeQrDetector();
    root.dataset.detector = Detector ? 'native' : 'polyfill';
    if (!Detector) Detector = (await loadPolyfill()).BarcodeDetector;
    detector = new Detector({ formats: ['qr_code'] });
    return detector;
  }

  // Where the polyfill is needed, fetch it (and its WebAssembly) while the network is there, so the
  // service worker keeps a copy and the camera also works after a reload without network.
  nativeQrDetector().then((native) => {
    if (native) return;
    if (typeof station.keepOffline === 'function') {
      const polyfillUrl = new URL(cfg.polyfillUrl, window.location.href);
      station.keepOffline([polyfillUrl.href, new URL('zxing-exported.js', polyfillUrl).href, wasmUrl]);
    }
    const later = window.requestIdleCallback || ((fn) => setTimeout(fn, 1500));
    later(() => loadPolyfill()
      .then((module) => module.prepareZXingModule({ overrides: zxingOverrides, fireImmediately: true }))
      .catch(() => { /* tried again when the camera starts */ }));
  });

  function cameraMessage(text, problem) {
    els.cameraStatus.textContent = text;
    els.cameraStatus.classList.toggle('is-problem', !!problem);
  }

  els.scan.addEventListener('click', startCamera);
  els.pause.addEventListener('click', () => (paused ? resumeCamera() : pauseCamera()));
  document.addEventListener('visibilitychange', () => {
    if (document.hidden && running) stopCamera();
  });

  async function startCamera() {
    unlockAudio();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraMessage(T('camera_missing'), true);
      return;
    }
    els.scan.disabled = true;
    cameraMessage(T('camera_starting'));
    try {
      await getDetector();
    } catch (error) {
      els.scan.disabled = false;
      cameraMessage(T('detector_failed'), true);
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (error) {
      els.scan.disabled = false;
      const name = error && error.name;
      if (name === 'NotAllowedError' || name === 'SecurityError') cameraMessage(T('camera_denied'), true);
      else if (name === 'NotFoundError' || name === 'OverconstrainedError') cameraMessage(T('camera_missing'), true);
      else cameraMessage(T('camera_failed', { message: String((error && error.message) || error) }), true);
      return;
    }
    els.video.srcObject = stream;
    els.camera.hidden = false;
    try { await els.video.play(); } catch (error) { /* muted inline video: plays once visible */ }
    running = true;
    paused = false;
    armedAt = 0;
    els.scan.hidden = true;
    els.scan.disabled = false;
    els.pause.hidden = false;
    els.pause.textContent = T('pause');
    root.dataset.camera = 'on';
    cameraMessage(T('camera_on'));
    focusBadge();
    frame();
  }

  function pauseCamera() {
    paused = true;
    clearTimeout(frameTimer);
    els.video.pause();
    els.pause.textContent = T('resume');
    root.dataset.camera = 'paused';
    cameraMessage(T('camera_paused'));
  }

  function resumeCamera() {
    paused = false;
    els.video.play().catch(() => {});
    els.pause.textContent = T('pause');
    root.dataset.camera = 'on';
    cameraMessage(T('camera_on'));
    frame();
  }

  function stopCamera() {
    running = false;
    paused = false;
    clearTimeout(frameTimer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    els.video.srcObject = null;
    els.camera.hidden = true;
    els.pause.hidden = true;
    els.scan.hidden = false;
    root.dataset.camera = 'off';
    cameraMessage('');
  }

  async function frame() {
    if (!running || paused) return;
    const video = els.video;
    if (video.readyState >= 2 && video.videoWidth) {
      try {
        const codes = await detector.detect(video);
        const hit = codes.find((code) => code.rawValue);
        if (hit && running && !paused) onCameraCode(hit.rawValue);
      } catch (error) {
        /* a frame that could not be read: try the next one */
      }
    }
    if (running && !paused) frameTimer = setTimeout(frame, FRAME_MS);
  }

  /* One read per badge shown: the same code still in view is the same badge, not a new scan. */
  function onCameraCode(text) {
    const now = performance.now();
    if (text === lastCode) {
      const stillThere = now - lastCodeSeenAt <= GONE_MS;
      lastCodeSeenAt = now;
      if (stillThere) return;
    }
    if (now < armedAt) return; // another badge just read: this one on a later frame
    lastCode = text;
    lastCodeSeenAt = now;
    armedAt = now + REARM_MS;
    scanBadge(text, 'camera');
  }

  focusBadge();
}

// ---------------------------------------------------------------- helpers

function fill(text, vars) {
  return String(text).replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

function pluralKey(locale, count) {
  try {
    return new Intl.PluralRules(locale).select(count) === 'one' ? 'pending_one' : 'pending_other';
  } catch (error) {
    return count === 1 ? 'pending_one' : 'pending_other';
  }
}

/* "9 h 12" in French (the typographic rule the server uses), "09:12" in English, at the event's time zone. */
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
    return french ? hour + ' h ' + parts.minute : String(hour).padStart(2, '0') + ':' + parts.minute;
  };
}

function deviceStore(prefix) {
  return {
    get(key) {
      try { return window.localStorage.getItem(prefix + key); } catch (error) { return null; }
    },
    set(key, value) {
      try { window.localStorage.setItem(prefix + key, value); } catch (error) { /* private mode: not remembered */ }
    },
  };
}
