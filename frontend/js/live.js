// The live feed (GET /api/events): one EventSource per tab, and how connected it is.
//
// Events go to the store, which merges them (store.applyRemote). The browser reconnects
// by itself after a network error, sending the last event id (Last-Event-ID), and the
// server replays what was missed. It gives up when the server answers with an error (a
// 503 when busy, a restart): then this module opens a new EventSource after a growing
// pause, with ?since= the last id. When the browser says it is offline, the stream is
// closed at once and reopened when it is back online. A `reset` (the last id is too old,
// or this tab fell too far behind) means: refetch everything. With accounts the stream is
// the signed-in user's (the session cookie goes with it): it stops when the session ends
// (stop) and starts afresh after the next sign-in.

const EVENTS_URL = '/api/events';
export const KINDS = [
  'todos.created', 'todos.updated', 'todos.deleted',
  'list.created', 'list.updated', 'list.deleted',
  'membership.added', 'membership.updated', 'membership.removed',
];
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;

export class LiveFeed {
  constructor({ onEvent, onReset, onStatus }) {
    this.onEvent = onEvent;
    this.onReset = onReset;
    this.onStatus = onStatus;
    this.lastId = null; // the last event id received: where a new stream resumes
    this.source = null;
    this.retryMs = RETRY_FIRST_MS;
    this.timer = null;
    this.status = null;
    this.stopped = true;
    window.addEventListener('offline', () => {
      if (this.stopped) return;
      this.close();
      this.setStatus('offline');
    });
    window.addEventListener('online', () => {
      if (!this.stopped) this.connect();
    });
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    if (navigator.onLine === false) this.setStatus('offline');
    else this.connect();
  }

  // Signed out: no stream, no reconnection, and the next user starts from the live part.
  stop() {
    this.stopped = true;
    this.close();
    this.lastId = null;
    this.setStatus(null);
  }

  connect() {
    this.close();
    const since = this.lastId === null ? '' : `?${new URLSearchParams({ since: this.lastId })}`;
    const source = new EventSource(EVENTS_URL + since);
    this.source = source;
    const seen = (event) => {
      if (event.lastEventId) this.lastId = event.lastEventId;
    };
    source.addEventListener('ready', (event) => {
      seen(event);
      this.retryMs = RETRY_FIRST_MS;
      this.setStatus('live');
    });
    source.addEventListener('reset', (event) => {
      seen(event);
      this.onReset();
    });
    for (const kind of KINDS) {
      source.addEventListener(kind, (event) => {
        seen(event);
        this.onEvent(JSON.parse(event.data));
      });
    }
    source.addEventListener('error', () => this.lost(source));
  }

  // CONNECTING: the browser retries by itself. CLOSED: it gave up; we try again later.
  lost(source) {
    if (source !== this.source || this.stopped) return;
    if (this.status === 'live' || this.status === null) this.setStatus('reconnecting');
    if (source.readyState !== EventSource.CLOSED) return;
    this.source = null;
    clearTimeout(this.timer);
    // Jittered: after a server restart, its clients do not all come back at once.
    this.timer = setTimeout(() => this.connect(), this.retryMs * (0.5 + Math.random()));
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  close() {
    clearTimeout(this.timer);
    this.source?.close();
    this.source = null;
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(status);
  }
}
