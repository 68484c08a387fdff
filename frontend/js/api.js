// The only module that talks to the server. Every failure becomes an ApiError whose
// message a person can read: the problem+json `detail` and field errors, or a plain
// sentence when the server is unreachable or answers without a problem body.

export class ApiError extends Error {
  constructor(message, status, pointers = [], problem = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when the server could not be reached
    this.pointers = pointers; // the fields the server named ("/list_id")
    this.problem = problem; // the problem+json body (a 412's `current`), if any
  }
}

// A request cancelled because a newer one superseded it (AbortController): not a failure.
export const isAbort = (error) => error?.name === 'AbortError';

const FIELD_NAMES = {
  title: 'Title', name: 'Name', completed: 'Completed', list_id: 'List', due: 'Due date',
  notes: 'Notes',
};

function fieldName(pointer) {
  const last = String(pointer || '').split('/').filter(Boolean).pop() || '';
  return FIELD_NAMES[last] || last;
}

// Turns a problem+json body into one sentence or two.
export function problemMessage(problem, status) {
  const errors = Array.isArray(problem?.errors) ? problem.errors : [];
  const fields = errors
    .map((e) => [fieldName(e.pointer), e.detail].filter(Boolean).join(': '))
    .filter(Boolean);
  const detail = problem?.detail || problem?.title || statusMessage(status);
  return fields.length ? `${detail} (${fields.join('; ')})` : detail;
}

function statusMessage(status) {
  if (status >= 500) return `The server had a problem (error ${status}). Please try again.`;
  if (status === 404) return 'This was deleted, perhaps on another device.';
  return `The server refused the change (error ${status}).`;
}

// How many requests are on their way, for a "saving" state (and tests that wait for quiet).
let inFlight = 0;
const activityListeners = new Set();

export function onActivity(fn) {
  activityListeners.add(fn);
}

function track(delta) {
  inFlight += delta;
  for (const fn of activityListeners) fn(inFlight);
}

// Work that makes its requests only after earlier work (a queued move) is on its way from
// the moment it is queued: between two requests of a queue, nothing looks settled.
export async function pending(work) {
  track(+1);
  try {
    return await work;
  } finally {
    track(-1);
  }
}

async function request(method, path, body, headers) {
  track(+1);
  try {
    return (await send(method, path, body, undefined, headers)).body;
  } finally {
    track(-1);
  }
}

// A collection, page after page: the server links the next page (Link: rel="next").
// `signal` (an AbortController's) cancels it when a newer request supersedes it.
async function requestAll(path, signal) {
  track(+1);
  try {
    const items = [];
    let url = path;
    while (url) {
      const { body, response } = await send('GET', url, undefined, signal);
      items.push(...body);
      url = nextPage(response.headers.get('Link'));
    }
    return items;
  } finally {
    track(-1);
  }
}

function nextPage(link) {
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link || '');
  if (!match) return null;
  // Same origin, path only: the server may see another scheme or host behind a proxy.
  const url = new URL(match[1], window.location.href);
  return url.pathname + url.search;
}

async function send(method, path, body, signal, headers = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (isAbort(error)) throw error;
    // fetch rejects only when there is no HTTP answer at all.
    throw new ApiError('Cannot reach the server. Check your connection and try again.', 0);
  }
  // fetch resolves on 4xx/5xx too: the status decides.
  if (response.status === 401 && !path.startsWith('/api/auth/')) {
    for (const fn of unauthorizedListeners) fn();
    throw new ApiError('Your session has ended. Sign in again.', 401);
  }
  if (!response.ok) {
    let problem = null;
    if ((response.headers.get('Content-Type') || '').includes('json')) {
      problem = await response.json().catch(() => null);
    }
    const pointers = Array.isArray(problem?.errors) ? problem.errors.map((e) => e.pointer) : [];
    throw new ApiError(problemMessage(problem, response.status), response.status, pointers, problem);
  }
  const result = response.status === 204 ? null : await response.json();
  return { body: result, response };
}

const query = (params) => new URLSearchParams(params).toString();

export const lists = {
  all: () => requestAll(`/api/lists?${query({ limit: 1000 })}`),
  get: (id) => request('GET', `/api/lists/${id}`),
  create: (name) => request('POST', '/api/lists', { name }),
  rename: (id, name) => request('PATCH', `/api/lists/${id}`, { name }),
  remove: (id) => request('DELETE', `/api/lists/${id}`),
  restore: (id) => request('POST', `/api/lists/${id}/restore`),
};

export const todos = {
  // Every todo matching `params` (list_id, q, due_before, overdue, tz, sort...).
  find: (params, signal) => requestAll(`/api/todos?${query({ ...params, limit: 1000 })}`, signal),
  // `fields`: the title and, optionally, due and notes.
  create: (listId, fields) => request('POST', '/api/todos', { ...fields, list_id: listId }),
  // With `version`: only if the todo is still at that version (If-Match), else a 412.
  update: (id, changes, version) => request(
    'PATCH', `/api/todos/${id}`, changes, version === undefined ? {} : { 'If-Match': `"${version}"` },
  ),
  remove: (id) => request('DELETE', `/api/todos/${id}`),
  // Undo: the todos that came back (those deleted for good do not).
  restore: (ids) => request('POST', '/api/todos/restore', { ids }),
  clearCompleted: (listId) =>
    request('DELETE', `/api/todos?${query({ list_id: listId, completed: true })}`),
  // One request for the whole list.
  toggleAll: (listId, completed) =>
    request('PATCH', `/api/todos?${query({ list_id: listId })}`, { completed }),
};

// --- accounts ---------------------------------------------------------------------
// A 401 outside /api/auth means the session ended (signed out elsewhere, expired): the
// app goes back to its sign-in screen.
const unauthorizedListeners = new Set();

export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

export const account = {
  // null when nobody is signed in (AUTH=on); { id: 0, username: null } when AUTH=off.
  async me() {
    try {
      return await request('GET', '/api/me');
    } catch (error) {
      if (error.status === 401) return null;
      throw error;
    }
  },
  signIn: (username, password) => request('POST', '/api/auth/login', { username, password }),
  signUp: (username, password) => request('POST', '/api/auth/signup', { username, password }),
  signOut: () => request('POST', '/api/auth/logout'),
  signOutEverywhere: () => request('DELETE', '/api/me/sessions'),
};

export const tokens = {
  all: () => request('GET', '/api/tokens'),
  create: (name) => request('POST', '/api/tokens', { name }),
  revoke: (id) => request('DELETE', `/api/tokens/${id}`),
};

export const members = {
  all: (listId) => request('GET', `/api/lists/${listId}/members`),
  set: (listId, username, role) =>
    request('PUT', `/api/lists/${listId}/members/${encodeURIComponent(username)}`, { role }),
  remove: (listId, username) =>
    request('DELETE', `/api/lists/${listId}/members/${encodeURIComponent(username)}`),
};
