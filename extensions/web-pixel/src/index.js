import {register} from '@shopify/web-pixels-extension';

// Posted with every batch; the backend records which versions are live (version history).
const PIXEL_VERSION = '1.0.0';

const MAX_EVENTS_PER_POST = 100; // the server takes up to 500
const MAX_BODY_BYTES = 60000; // fetch keepalive bodies are capped near 64 KB in total
const MAX_EVENT_BYTES = 32000; // the server rejects larger events
const FLUSH_DELAY_MS = 1000;
const MAX_QUEUE = 1000; // beyond this, the oldest events are dropped
const MAX_ATTEMPTS = 5;
// Checkout completion may be the last thing a page does: send at once.
const URGENT = new Set(['checkout_completed', 'checkout_started', 'payment_info_submitted']);

export function createPixel({analytics, settings}, env = {}) {
  const doFetch = env.fetch || fetch;
  const setTimer = env.setTimeout || setTimeout;
  // The backend sets it per shop (webPixelCreate/Update settings, from SHOPIFY_APP_URL).
  const ingestUrl = settings.ingestUrl;
  if (!ingestUrl || !settings.accountID) {
    // Settings from before the backend sent its URL: nowhere to post until it updates them.
    return {flush() {}, queue: []};
  }
  const encoder = new TextEncoder();
  const queue = [];
  let timer = null;
  let pausedUntil = 0;

  const sizeOf = (value) => encoder.encode(JSON.stringify(value)).length;

  function envelope(event) {
    return {
      id: event.id,
      name: event.name,
      timestamp: event.timestamp,
      clientId: event.clientId,
      seq: event.seq,
      type: event.type,
      context: event.context || {},
      data: event.data || {},
    };
  }

  function schedule(delay) {
    if (timer === null) {
      timer = setTimer(() => {
        timer = null;
        flush();
      }, delay);
    }
  }

  // Take events off the queue until the post would pass the count or byte limit.
  function nextBatch() {
    const batch = [];
    const overhead = sizeOf({accountID: settings.accountID, version: PIXEL_VERSION, events: []});
    let bytes = overhead;
    while (queue.length && batch.length < MAX_EVENTS_PER_POST) {
      const size = queue[0].size + 1;
      if (batch.length && bytes + size > MAX_BODY_BYTES) break;
      const item = queue.shift();
      batch.push(item);
      bytes += size;
    }
    return batch;
  }

  function send(batch, attempt) {
    const body = JSON.stringify({
      accountID: settings.accountID,
      version: PIXEL_VERSION,
      events: batch.map((item) => item.event),
    });
    return doFetch(ingestUrl, {
      method: 'POST',
      // A CORS-safelisted content type: no preflight, and no credentials.
      headers: {'Content-Type': 'text/plain;charset=UTF-8'},
      body,
      keepalive: true,
      credentials: 'omit',
    }).then(
      (response) => {
        if (response.status === 429 || response.status === 503) {
          const seconds = Number(response.headers.get('Retry-After'));
          const waitMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 2000 * attempt;
          retry(batch, attempt, waitMs);
        }
        // 202: done (rejected events are not retried: they would be rejected again);
        // other 4xx: the batch can never be accepted as it is.
      },
      () => retry(batch, attempt, 2000 * attempt),
    );
  }

  function retry(batch, attempt, waitMs) {
    if (attempt >= MAX_ATTEMPTS) return;
    pausedUntil = Date.now() + waitMs;
    setTimer(() => {
      send(batch, attempt + 1);
    }, waitMs);
  }

  function flush() {
    if (Date.now() < pausedUntil) {
      schedule(pausedUntil - Date.now());
      return;
    }
    while (queue.length) {
      send(nextBatch(), 1);
    }
  }

  function onEvent(event) {
    const item = {event: envelope(event)};
    item.size = sizeOf(item.event);
    if (item.size > MAX_EVENT_BYTES) {
      item.event.context = {};
      item.size = sizeOf(item.event);
      if (item.size > MAX_EVENT_BYTES) return;
    }
    queue.push(item);
    if (queue.length > MAX_QUEUE) queue.shift();
    if (URGENT.has(event.name) || queue.length >= MAX_EVENTS_PER_POST) {
      flush();
    } else {
      schedule(FLUSH_DELAY_MS);
    }
  }

  analytics.subscribe('all_standard_events', onEvent);
  analytics.subscribe('all_dom_events', onEvent);
  analytics.subscribe('all_custom_events', onEvent);

  // Flush when the page goes away. The strict sandbox is a web worker without a document;
  // where a document exists (lax sandbox, or the test harness) use its lifecycle events.
  const scope = typeof self !== 'undefined' ? self : undefined;
  const doc = scope && scope.document;
  if (doc && scope.addEventListener) {
    doc.addEventListener('visibilitychange', () => {
      if (doc.visibilityState === 'hidden') flush();
    });
    scope.addEventListener('pagehide', flush);
  }

  return {flush, queue};
}

register((api) => {
  createPixel(api);
});
