// Application state and its persistence. Every change is applied locally first
// (optimistic), sent at once, and rolled back if the server refuses it.
//
// Todos carry a `key` that never changes (the server id once known, a temporary
// "new-N" before) so the view can keep one DOM element per todo across answers.
// Requests for one todo run in order through a per-todo queue: an edit made before
// the todo's POST has answered waits for its id instead of being lost.
//
// What is on screen is a place (see router.js): one list, a view across lists (Today,
// Upcoming), or a search. Deletes go to the server's trash at once; each tells the
// `onDeleted` listeners how to undo it, and undo() brings the items back.
//
// Changes made elsewhere arrive as events of the live feed (js/live.js): see "changes from
// elsewhere" at the end.

import { isAbort } from './api.js';
import * as dates from './dates.js';

let nextKey = 1;
const COUNTS_DELAY_MS = 200; // a burst of changes to another list: one refetch of its counts
const REFRESH_DELAY_MS = 200; // and of a view across lists or a search

// The fields of a todo the user changes, as the server last confirmed them.
const confirmed = (t) => ({
  title: t.title, completed: t.completed, due: t.due ?? null, notes: t.notes ?? null,
});

const byOrder = (a, b) => (a.order - b.order) || ((a.id ?? Infinity) - (b.id ?? Infinity));
const undated = '9999-99-99'; // sorts after every date, as the server's sort=due
const byDue = (a, b) => (a.due || undated).localeCompare(b.due || undated) || byOrder(a, b);

// The todos a place loaded, then those the user added while it loaded: the server may
// have read the list before such an add committed, and the new todo must not vanish. One
// it did read stays the user's own item (it may have changes on the way).
function withAdded(loaded, added) {
  const ids = new Set(added.map((t) => t.id));
  return [...loaded.filter((t) => !ids.has(t.id)), ...added];
}

// Waits until these todos have no request queued or on its way (a queue can grow while
// we wait: a create's answer may add the change made in the meantime).
async function settle(items) {
  let chains;
  do {
    chains = items.map((t) => t.chain);
    await Promise.all(chains);
  } while (items.some((t, i) => t.chain !== chains[i]));
}

export function quoted(text, max = 40) {
  return `“${text.length > max ? `${text.slice(0, max)}…` : text}”`;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// The todos of a place, as API queries: Today is what is overdue plus what is due today.
function queries(place) {
  const now = dates.today();
  if (place.view === 'today') {
    return [
      { overdue: true, tz: dates.timeZone, sort: 'due' },
      { due_after: now, due_before: now },
    ];
  }
  if (place.view === 'upcoming') return [{ due_after: dates.addDays(now, 1), sort: 'due' }];
  if (place.view === 'search') return place.q ? [{ q: place.q }] : [];
  return [place.q ? { list_id: place.listId, q: place.q } : { list_id: place.listId }];
}

export class Store {
  constructor(api) {
    this.api = api;
    this.lists = [];
    this.place = { view: 'list', listId: null, q: '' };
    this.items = [];
    this.loading = true; // true until the todos of the place have arrived
    this.listeners = new Set();
    this.errorListeners = new Set();
    this.deleteListeners = new Set();
    this.listGoneListeners = new Set();
    this.loadToken = 0;
    this.searching = null; // the AbortController of the search on its way
    this.moves = Promise.resolve(); // moves reach the server one after another, in order
    // Changes made elsewhere (see the end).
    this.remote = []; // events not applied yet: held while loading, editing or refreshing
    this.holds = 0;
    this.tombstones = new Map(); // id -> version of deleted todos: older events bring none back
    this.unknown = new Map(); // todos first seen in an event while an add of ours was on its way
    this.timers = new Map(); // list id (or 'place') -> a refetch to come
    this.username = null; // who is signed in (null: AUTH=off's implicit user)
  }

  // --- observers -------------------------------------------------------------

  subscribe(fn) { this.listeners.add(fn); }

  onError(fn) { this.errorListeners.add(fn); }

  // fn({ kind: 'todos', ids } | { kind: 'list', id, name }, message): something went to
  // the trash and can be restored.
  onDeleted(fn) { this.deleteListeners.add(fn); }

  // fn(id): a list turned out to be deleted elsewhere (and is gone from this.lists).
  onListGone(fn) { this.listGoneListeners.add(fn); }

  emit() {
    for (const fn of this.listeners) fn(this);
  }

  fail(message) {
    for (const fn of this.errorListeners) fn(message);
  }

  deleted(undo, message) {
    for (const fn of this.deleteListeners) fn(undo, message);
  }

  // --- lists -----------------------------------------------------------------

  get listId() {
    return this.place.view === 'list' ? this.place.listId : null;
  }

  get defaultListId() {
    const saved = this.lists.filter((l) => l.id != null);
    return saved.length ? Math.min(...saved.map((l) => l.id)) : null;
  }

  get currentList() {
    return this.listId === null ? null : this.lists.find((l) => l.id === this.listId) || null;
  }

  // The whole list is on screen (not a search in it): its counts are the items'.
  get showsWholeList() {
    return this.place.view === 'list' && !this.place.q && !this.loading;
  }

  // Drag to reorder needs every todo of one list on screen, in their order.
  get canReorder() {
    return this.showsWholeList;
  }

  listName(id) {
    return this.lists.find((l) => l.id === id)?.name ?? '';
  }

  hasList(id) {
    return this.lists.some((l) => l.id === id);
  }

  // The lists as the app shows them. Counts are live for the list on screen (a local
  // change shows at once) and the server's last word for the others. The server refuses
  // to delete a user's last list, so the only saved list is not offered for deletion.
  get listSummaries() {
    const current = this.currentList;
    const live = current && this.showsWholeList ? this.liveCounts() : null;
    const deletable = this.lists.filter((l) => l.id !== null).length > 1;
    return this.lists.map((l) => (l === current
      ? { ...l, ...live, current: true, deletable }
      : { ...l, current: false, deletable }));
  }

  liveCounts() {
    const active = this.items.filter((t) => !t.completed).length;
    return { active_count: active, completed_count: this.items.length - active };
  }

  async loadLists() {
    const lists = await this.api.lists.all();
    this.lists = lists.map((l) => ({ ...l, key: String(l.id) }));
    this.emit();
  }

  // A list this page still shows was deleted elsewhere: drop it and say so in words
  // (`consequence`: what it meant for the user's change).
  listGone(id, consequence = '', what = 'was deleted on another device') {
    const list = this.lists.find((l) => l.id === id);
    const name = list ? `The list ${quoted(list.name)}` : 'This list';
    this.fail(`${name} ${what}${consequence}.`);
    if (!list) return;
    this.lists = this.lists.filter((l) => l !== list);
    this.emit();
    for (const fn of this.listGoneListeners) fn(id);
  }

  // --- places ----------------------------------------------------------------

  // Shows a place: its todos replace the current ones. A slower answer for a place the
  // user has already left is ignored; a search superseded by a newer one is cancelled.
  async show(place) {
    const token = ++this.loadToken;
    this.searching?.abort();
    this.searching = place.q ? new AbortController() : null;
    const left = this.currentList;
    // The list left behind keeps the counts it had on screen (newer than the server's).
    if (left && this.showsWholeList) Object.assign(left, this.liveCounts());
    this.place = { view: place.view, listId: place.listId ?? null, q: place.q || '' };
    this.items = [];
    this.unknown.clear();
    const wanted = this.place.view === 'list' && this.place.listId === null ? [] : queries(place);
    this.loading = wanted.length > 0;
    this.emit();
    if (!wanted.length) return;
    try {
      const signal = this.searching?.signal;
      const found = await Promise.all(wanted.map((q) => this.api.todos.find(q, signal)));
      if (token !== this.loadToken) return;
      this.items = withAdded(found.flat().map((t) => this.fromServer(t)), this.items);
      if (this.place.view !== 'list') this.items.sort(byDue);
      this.loading = false;
      this.emit();
    } catch (error) {
      if (token !== this.loadToken || isAbort(error)) return;
      this.loading = false;
      this.emit();
      this.fail(`Could not load these todos: ${error.message}`);
    }
    this.drainRemote(); // what changed elsewhere while they loaded
  }

  // Resolves to the saved list, or null if the server refused it.
  async createList(name) {
    const list = { key: `new-${nextKey++}`, id: null, name, active_count: 0, completed_count: 0 };
    this.lists.push(list);
    this.emit();
    try {
      const saved = await this.api.lists.create(name);
      Object.assign(list, saved);
      this.emit();
      return list;
    } catch (error) {
      this.lists = this.lists.filter((l) => l !== list);
      this.emit();
      this.fail(`Could not create the list ${quoted(name)}: ${listMessage(error, name)}`);
      return null;
    }
  }

  async renameList(id, name) {
    const list = this.lists.find((l) => l.id === id);
    if (!list || list.name === name) return;
    const previous = list.name;
    list.name = name;
    this.emit();
    try {
      const saved = await this.api.lists.rename(id, name);
      list.name = saved.name;
    } catch (error) {
      list.name = previous;
      if (error.status === 404) {
        this.listGone(id);
        return;
      }
      this.fail(`Could not rename the list to ${quoted(name)}: ${listMessage(error, name)}`);
    }
    this.emit();
  }

  async deleteList(id) {
    const index = this.lists.findIndex((l) => l.id === id);
    if (index < 0) return false;
    const [list] = this.lists.splice(index, 1);
    this.emit();
    try {
      await this.api.lists.remove(id);
      this.deleted({ kind: 'list', id, name: list.name }, `Deleted the list ${quoted(list.name)}.`);
      return true;
    } catch (error) {
      if (error.status === 404) return true; // already gone: what the user wanted
      this.lists.splice(index, 0, list);
      this.emit();
      this.fail(`Could not delete the list ${quoted(list.name)}: ${error.message}`);
      // 409: it is the user's last list, so the others were deleted elsewhere: catch up.
      if (error.status === 409) await this.loadLists().catch(() => {});
      return false;
    }
  }

  // --- todos -----------------------------------------------------------------

  fromServer(t) {
    return {
      key: String(t.id),
      id: t.id,
      list_id: t.list_id,
      order: t.order,
      version: t.version, // the newest the server has told us of
      ...confirmed(t),
      saved: confirmed(t),
      pending: 0, // changes sent but not answered yet
      moving: 0, // moves sent or queued but not answered yet: its order is ours till then
      gone: false, // deleted here (its DELETE may still be on its way)
      chain: Promise.resolve(),
    };
  }

  // Runs `task` after the earlier requests for this todo. Changes to a todo the user has
  // deleted meanwhile are skipped (the delete itself passes `always`).
  enqueue(item, task, always = false) {
    item.chain = item.chain.then(() => (item.gone && !always ? undefined : task()));
    return item.chain;
  }

  // Where a new todo goes: the list on screen, else (Today, Upcoming, a search across lists)
  // the default list, due today in Today and tomorrow in Upcoming.
  newTodoPlace() {
    const { view } = this.place;
    const listId = view === 'list' ? this.place.listId : this.defaultListId;
    if (view === 'today') return { listId, due: dates.today() };
    if (view === 'upcoming') return { listId, due: dates.addDays(dates.today(), 1) };
    return { listId, due: null };
  }

  // Resolves to true when saved, false when refused (the caller gives the text back).
  async add(title) {
    const { listId, due } = this.newTodoPlace();
    if (listId === null) {
      this.fail('Create a list first: your todos go into a list.');
      return false;
    }
    const item = {
      key: `new-${nextKey++}`, id: null, list_id: listId, title, completed: false, due,
      notes: null, order: Infinity, saved: null, pending: 1, moving: 0, gone: false,
      chain: Promise.resolve(),
    };
    this.items.push(item);
    this.emit();
    let ok = true;
    const fields = due ? { title, due } : { title };
    item.chain = this.api.todos.create(listId, fields).then(
      (saved) => this.created(item, saved),
      (error) => {
        ok = false;
        item.gone = true;
        this.items = this.items.filter((t) => t !== item);
        this.settleUnknown(null);
        this.emit();
        if (error.status === 422 && error.pointers.includes('/list_id')) {
          this.listGone(listId, `, so ${quoted(title)} was not added`);
        } else {
          this.fail(`Could not add ${quoted(title)}: ${error.message}`);
        }
      },
    );
    await item.chain;
    return ok;
  }

  created(item, saved) {
    Object.assign(item, { id: saved.id, order: saved.order, version: saved.version, pending: 0 });
    item.saved = confirmed(saved);
    this.settleUnknown(saved.id);
    // Changes made while the POST was in flight are sent now, in the queue.
    const changes = {};
    for (const [field, value] of Object.entries(item.saved)) {
      if (item[field] !== value) changes[field] = item[field];
    }
    if (!item.gone && Object.keys(changes).length) this.sendUpdate(item, changes);
    this.emit();
  }

  // Resolves once the change is answered. `conditional`: only if nobody else changed the
  // todo meanwhile (If-Match its version), else the server's 412 is told to the user.
  update(key, changes, conditional = false) {
    const item = this.items.find((t) => t.key === key);
    // Nothing to send when nothing changes (an edit closed without typing, for one).
    if (!item || Object.entries(changes).every(([field, value]) => item[field] === value)) {
      return Promise.resolve();
    }
    Object.assign(item, changes);
    this.emit();
    // Before the POST answers, the create's completion handler sends the change.
    if (item.id === null) return item.chain;
    return this.sendUpdate(item, changes, conditional);
  }

  toggle(key) {
    const item = this.items.find((t) => t.key === key);
    if (item) this.update(key, { completed: !item.completed });
  }

  // An edit is saved only over the version it began from: changes from elsewhere wait
  // while it is open (holdRemote), so the version the store holds is that one.
  edit(key, title) {
    if (title) return this.update(key, { title }, true);
    this.remove(key);
    return Promise.resolve();
  }

  sendUpdate(item, changes, conditional = false) {
    item.pending += 1;
    return this.enqueue(item, async () => {
      try {
        const version = conditional ? item.version : undefined;
        const saved = await this.api.todos.update(item.id, changes, version);
        this.confirm(item, saved);
        item.pending -= 1;
        // A later change is still on its way: its answer will settle the state.
        if (item.pending === 0) Object.assign(item, item.saved);
      } catch (error) {
        item.pending -= 1;
        if (error.status === 404) {
          this.drop(item);
          this.fail(`${quoted(item.saved.title)} was deleted on another device.`);
        } else if (error.status === 412) {
          const before = item.saved.title;
          this.confirm(item, error.problem.current);
          Object.assign(item, item.saved); // theirs: what the server has now
          this.fail(conflict(before, item.saved.title, changes));
        } else {
          Object.assign(item, item.saved); // back to what the server last confirmed
          this.fail(`Could not save ${what(changes, item)}: ${error.message}`);
        }
      }
      this.emit();
    });
  }

  // The server's word on a todo, kept unless we already hold a newer one.
  confirm(item, todo) {
    if (item.version !== undefined && todo.version < item.version) return;
    item.version = todo.version;
    item.saved = confirmed(todo);
    // A move of ours on its way decides where the todo is: an event of an earlier state
    // (our own earlier move, told by the live feed) must not put it back meanwhile.
    if (item.moving) return;
    item.order = todo.order;
    item.list_id = todo.list_id;
  }

  drop(item) {
    item.gone = true;
    this.items = this.items.filter((t) => t !== item);
  }

  remove(key) {
    const item = this.items.find((t) => t.key === key);
    if (!item) return;
    const place = this.place;
    item.gone = true;
    this.items = this.items.filter((t) => t !== item);
    this.emit();
    this.enqueue(item, async () => {
      if (item.id === null) return; // its POST failed: nothing to delete
      try {
        await this.api.todos.remove(item.id);
        this.deleted({ kind: 'todos', ids: [item.id] }, `Deleted ${quoted(item.title)}.`);
      } catch (error) {
        if (error.status === 404) return; // already deleted elsewhere
        item.gone = false;
        this.putBack(place, [item]);
        this.fail(`Could not delete ${quoted(item.title)}: ${error.message}`);
      }
    }, true);
  }

  // Puts todos back where they were (by order, or by date across lists) after a refused
  // delete or an undo, if the user is still where they were.
  putBack(place, items) {
    if (this.place !== place) return; // the user has moved on
    const known = new Set(this.items.map((t) => t.key));
    const back = items.filter((t) => !known.has(t.key));
    this.items = [...this.items, ...back].sort(place.view === 'list' ? byOrder : byDue);
    this.emit();
  }

  async clearCompleted() {
    const done = this.items.filter((t) => t.completed);
    if (!done.length) return;
    const place = this.place;
    this.items = this.items.filter((t) => !t.completed);
    this.emit();
    // Toggles still on their way must reach the server before it clears.
    await settle(done);
    for (const t of done) t.gone = true;
    try {
      await this.api.todos.clearCompleted(place.listId);
      const ids = done.filter((t) => t.id !== null).map((t) => t.id);
      const message = `Cleared ${plural(ids.length, 'completed todo', 'completed todos')}.`;
      if (ids.length) this.deleted({ kind: 'todos', ids }, message);
    } catch (error) {
      for (const t of done) t.gone = false;
      this.putBack(place, done);
      this.fail(`Could not clear the completed todos: ${error.message}`);
    }
  }

  async toggleAll(completed) {
    const listId = this.listId;
    const changed = this.items.filter((t) => t.completed !== completed);
    if (!changed.length) return;
    for (const t of changed) t.completed = completed;
    this.emit();
    const saved = changed.filter((t) => t.id !== null);
    // Counted as pending, so that answers to earlier changes do not show the old state.
    for (const t of saved) t.pending += 1;
    await settle(saved);
    try {
      await this.api.todos.toggleAll(listId, completed);
    } catch (error) {
      for (const t of saved) {
        t.pending -= 1;
        Object.assign(t, t.saved);
      }
      this.emit();
      this.fail(`Could not update all todos: ${error.message}`);
      return;
    }
    for (const t of saved) {
      t.pending -= 1;
      t.saved.completed = completed;
    }
    // Todos whose POST is still in flight get their change when it answers (see add).
    this.emit();
  }

  // --- arranging -------------------------------------------------------------

  // Moves a todo next to another in the same list (drag, Alt+arrow): before it when
  // moving up, after it when moving down. The server puts the todo at the `order` asked
  // for and moves the todos in its way up to the next free order; this shows the result at
  // once, then learns their new orders from the server (see queueMove).
  // Returns null when there is nothing to move (or a todo is not saved yet), else a
  // promise of true when saved; a refusal puts every todo back where it was.
  moveTo(key, targetKey) {
    const item = this.items.find((t) => t.key === key);
    const target = this.items.find((t) => t.key === targetKey);
    if (!this.canReorder || !item || !target || item === target) return null;
    if (item.id === null || target.id === null) return null;
    const before = new Map(this.items.map((t) => [t, t.order]));
    const place = this.place;
    const down = this.items.indexOf(item) < this.items.indexOf(target); // as the user sees it
    const to = down ? target.order + 1 : target.order;
    this.items = this.items.filter((t) => t !== item);
    this.items.splice(this.items.indexOf(target) + (down ? 1 : 0), 0, item);
    item.order = to;
    let previous = -Infinity;
    for (const t of this.items.slice(this.items.indexOf(item))) {
      if (t.order <= previous) t.order = previous + 1;
      previous = t.order;
    }
    this.emit();
    return this.queueMove(item, { order: to }, () => {
      for (const [t, order] of before) t.order = order;
      if (this.place === place) this.items.sort(byOrder);
    });
  }

  // The orders the server gave the todos of a list after a move made room.
  async refreshOrders(place) {
    const found = await Promise.all(queries(place).map((q) => this.api.todos.find(q)));
    if (this.place !== place) return;
    const orders = new Map(found.flat().map((t) => [t.id, t.order]));
    for (const t of this.items) if (orders.has(t.id)) t.order = orders.get(t.id);
    this.items.sort(byOrder);
  }

  // Moves a todo to the end of another list (dropped on the list in the sidebar).
  moveToList(key, listId) {
    const item = this.items.find((t) => t.key === key);
    const target = this.lists.find((l) => l.id === listId);
    if (!item || !target || item.id === null || item.list_id === listId) {
      return Promise.resolve(false);
    }
    const place = this.place;
    const source = item.list_id;
    const leaves = place.view === 'list';
    if (leaves) this.items = this.items.filter((t) => t !== item);
    item.list_id = listId;
    target.active_count += item.completed ? 0 : 1;
    target.completed_count += item.completed ? 1 : 0;
    this.emit();
    return this.queueMove(item, { list_id: listId }, () => {
      item.list_id = source;
      target.active_count -= item.completed ? 0 : 1;
      target.completed_count -= item.completed ? 1 : 0;
      if (leaves) this.putBack(place, [item]);
    });
  }

  // Sends a move after the earlier ones (positions depend on their order); on refusal,
  // `undo` puts things back and the user is told in words.
  queueMove(item, changes, undo) {
    item.moving += 1;
    const done = this.api.pending(this.moves.then(async () => {
      try {
        await settle([item]);
        if (item.gone) return false;
        const saved = await this.api.todos.update(item.id, changes);
        this.confirm(item, saved); // (its version: older events of it are ignored from now)
        item.order = saved.order;
        if ('order' in changes) await this.refreshOrders(this.place).catch(() => {});
        return true;
      } catch (error) {
        undo();
        if (error.status === 404) {
          this.drop(item);
          this.fail(`${quoted(item.title)} was deleted on another device.`);
        } else if (error.status === 422 && error.pointers.includes('/list_id')) {
          this.listGone(changes.list_id, `, so ${quoted(item.title)} stayed where it was`);
        } else {
          this.fail(`Could not move ${quoted(item.title)}: ${error.message}`);
        }
        return false;
      } finally {
        item.moving -= 1;
        this.emit();
      }
    }));
    this.moves = done;
    return done;
  }

  // --- undo ------------------------------------------------------------------

  // Takes todos or a list out of the server's trash (the undo of a delete). Resolves to
  // the list restored, if it was one, so that the app can show it.
  async undo(action) {
    try {
      if (action.kind === 'list') return await this.restoreList(action);
      await this.restoreTodos(action.ids);
    } catch (error) {
      this.fail(`Could not undo: ${error.message}`);
    }
    return null;
  }

  async restoreTodos(ids) {
    const back = await this.api.todos.restore(ids);
    if (back.length < ids.length) {
      this.fail(back.length
        ? 'Some of the todos could not be brought back: they were deleted for good.'
        : 'This can no longer be undone: it was deleted for good.');
    }
    const place = this.place;
    const here = back.filter((t) => place.view !== 'list' || t.list_id === place.listId);
    this.putBack(place, here.map((t) => this.fromServer(t)));
  }

  async restoreList(action) {
    try {
      const saved = await this.api.lists.restore(action.id);
      const list = { ...saved, key: String(saved.id) };
      // (Its event may have brought it back already.)
      this.lists = [...this.lists.filter((l) => l.id !== saved.id), list].sort(byId);
      this.emit();
      return saved;
    } catch (error) {
      if (error.status === 409) {
        const name = quoted(action.name);
        this.fail(`Could not bring back the list ${name}: another list has this name now.`);
        return null;
      }
      throw error;
    }
  }

  // --- changes from elsewhere (events of the live feed, js/live.js) ------------
  //
  // A todo takes an event's state only if the event's version is newer than the one we
  // hold, so the echo of our own change, or an event older than a fresh load, does
  // nothing. While our own change to a todo is on its way, an event only records the
  // server's state: the answer settles what shows (no flicker). A todo we do not know,
  // seen while an add of ours is on its way, may be that add: it waits for the answer (no
  // doubling). Events wait while the todos load and while the user edits one (nothing
  // moves or changes under their hands; the save then meets a 412 if someone else changed
  // the todo meanwhile). A view across lists or a search is fetched again instead, since
  // whether a todo belongs there is the server's to say.

  applyRemote(event) {
    this.remote.push(event);
    this.drainRemote();
  }

  holdRemote() {
    this.holds += 1;
  }

  releaseRemote() {
    this.holds -= 1;
    this.drainRemote();
  }

  drainRemote() {
    if (this.loading || this.holds > 0 || !this.remote.length) return;
    for (const event of this.remote.splice(0)) this.applyEvent(event);
    if (this.showsWholeList) this.items.sort(byOrder);
    this.emit();
  }

  applyEvent(event) {
    if (event.kind.startsWith('list.')) {
      this.applyList(event.kind, event.list);
      return;
    }
    if (event.kind.startsWith('membership.')) {
      this.applyMembership(event);
      return;
    }
    const here = event.list_id === this.listId;
    if (!here) this.later(event.list_id, () => this.fetchCounts(event.list_id));
    if (!this.showsWholeList) {
      // Whether a todo belongs in a view across lists or a search is the server's to say.
      if (here || this.place.view !== 'list') this.later('place', () => this.refresh());
    } else if (here && event.refetch) {
      this.refresh();
    } else if (here) {
      for (const todo of event.todos) this.applyTodo(event.kind, todo);
    }
  }

  applyTodo(kind, todo) {
    if (kind === 'todos.deleted') {
      this.deletedRemotely(todo);
      return;
    }
    const gone = this.tombstones.get(todo.id);
    if (gone !== undefined && todo.version <= gone) return; // older than its deletion
    this.tombstones.delete(todo.id);
    const item = this.items.find((t) => t.id === todo.id);
    if (todo.list_id !== this.listId) { // moved to another list
      if (item) this.drop(item);
    } else if (item) {
      this.confirm(item, todo);
      if (item.pending === 0) Object.assign(item, item.saved);
    } else if (this.items.some((t) => t.id === null && !t.gone)) {
      this.unknown.set(todo.id, todo);
    } else {
      this.items.push(this.fromServer(todo));
    }
  }

  deletedRemotely(todo) {
    this.tombstones.set(todo.id, todo.version);
    this.unknown.delete(todo.id);
    const item = this.items.find((t) => t.id === todo.id);
    // (A todo we hold at a newer version was restored since.)
    if (item && !(item.version > todo.version)) this.drop(item);
  }

  // An add of ours was answered (`id`, or null if refused): the todos we did not know are
  // others' once no add of ours is on its way any more.
  settleUnknown(id) {
    this.unknown.delete(id);
    if (this.items.some((t) => t.id === null && !t.gone)) return;
    for (const todo of this.unknown.values()) {
      if (!this.items.some((t) => t.id === todo.id)) this.items.push(this.fromServer(todo));
    }
    this.unknown.clear();
    if (this.showsWholeList) this.items.sort(byOrder);
  }

  applyList(kind, incoming) {
    const list = this.lists.find((l) => l.id === incoming.id);
    if (kind === 'list.deleted') {
      if (!list) return;
      // The list on screen: say so and leave it (after this batch of events).
      if (list.id === this.listId) queueMicrotask(() => this.listGone(list.id));
      else this.lists = this.lists.filter((l) => l !== list);
    } else if (list) {
      if (incoming.version > list.version) Object.assign(list, incoming);
    } else if (!this.lists.some((l) => l.id === null && l.name === incoming.name
        && incoming.role === 'owner')) {
      // (A list of ours on its way has the same name: an owner's names are unique, so it
      // is ours.)
      this.lists = [...this.lists, { ...incoming, key: String(incoming.id) }].sort(byId);
    }
  }

  // A list shared with this user, their role on it changed, or the sharing ended: the
  // sidebar follows. (Who else a list is shared with changes nothing on screen.)
  applyMembership(event) {
    if (this.username === null || event.member.username !== this.username) return;
    const id = event.list_id;
    if (event.kind !== 'membership.removed') {
      this.later(`list ${id}`, () => this.fetchList(id), 0); // its counts, owner and role
    } else if (id === this.listId) {
      queueMicrotask(() => this.listGone(id, '', 'is no longer shared with you'));
    } else {
      this.lists = this.lists.filter((l) => l.id !== id);
    }
  }

  async fetchList(id) {
    try {
      const fresh = await this.api.lists.get(id);
      const list = this.lists.find((l) => l.id === id);
      if (list) Object.assign(list, fresh);
      else this.lists = [...this.lists, { ...fresh, key: String(fresh.id) }].sort(byId);
    } catch (error) {
      if (error.status !== 404) return;
      this.lists = this.lists.filter((l) => l.id !== id); // taken away again meanwhile
    }
    this.emit();
  }

  // Runs `task` once after a burst of calls with the same key.
  later(key, task, delay = key === 'place' ? REFRESH_DELAY_MS : COUNTS_DELAY_MS) {
    if (this.timers.has(key)) return;
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      task();
    }, delay));
  }

  // Another list's todos changed: its counts, from the server.
  async fetchCounts(listId) {
    if (!this.hasList(listId)) return;
    try {
      const fresh = await this.api.lists.get(listId);
      const list = this.lists.find((l) => l.id === listId);
      if (list) Object.assign(list, fresh);
    } catch (error) {
      if (error.status === 404) this.lists = this.lists.filter((l) => l.id !== listId);
    }
    this.emit();
  }

  // The place's todos again from the server, without blanking them: for a bulk change that
  // came as "refetch", a change seen in a view across lists, and after a `reset`. Our own
  // unanswered changes stay.
  async refresh() {
    const { place, loadToken } = this;
    if (this.loading || (place.view === 'list' && place.listId === null)) return;
    this.holdRemote();
    try {
      const found = await Promise.all(queries(place).map((q) => this.api.todos.find(q)));
      if (loadToken === this.loadToken) {
        const mine = this.items.filter((t) => t.id === null || t.pending > 0);
        const kept = new Set(mine.map((t) => t.id));
        const theirs = found.flat().filter((t) => !kept.has(t.id)).map((t) => this.fromServer(t));
        this.items = [...theirs, ...mine].sort(place.view === 'list' ? byOrder : byDue);
      }
    } catch (error) {
      if (!isAbort(error)) this.fail(`Could not refresh these todos: ${error.message}`);
    }
    this.releaseRemote();
    this.emit();
  }

  // After a `reset`: what happened meanwhile is not known, so everything is fetched again.
  async reload() {
    try {
      const lists = await this.api.lists.all();
      const byKey = new Map(this.lists.map((l) => [l.id, l]));
      this.lists = [
        ...lists.map((l) => Object.assign(byKey.get(l.id) || { key: String(l.id) }, l)),
        ...this.lists.filter((l) => l.id === null),
      ];
    } catch (error) {
      this.fail(`Could not refresh your lists: ${error.message}`);
    }
    this.emit();
    await this.refresh();
  }
}

const byId = (a, b) => (a.id ?? Infinity) - (b.id ?? Infinity);

// A conditional save met a 412: the todo had changed elsewhere since the edit began.
function conflict(before, now, changes) {
  const yours = 'title' in changes ? `your text ${quoted(changes.title, 200)}` : 'your change';
  const reads = now === before ? '' : ` (it now reads ${quoted(now)})`;
  return `${quoted(before)} was changed elsewhere while you edited it${reads}: ${yours} was not saved.`;
}

function what(changes, item) {
  if ('title' in changes && changes.title !== item.saved.title) {
    return `the new title ${quoted(changes.title, 200)} for ${quoted(item.saved.title)}`;
  }
  return quoted(item.saved.title);
}

function listMessage(error, name) {
  if (error.status === 409) return `there is already a list named ${quoted(name)}.`;
  return error.message;
}
