// Application state and its persistence. Every change is applied locally first
// (optimistic), sent at once, and rolled back if the server refuses it.
//
// Todos carry a `key` that never changes (the server id once known, a temporary
// "new-N" before) so the view can keep one DOM element per todo across answers.
// Requests for one todo run in order through a per-todo queue: an edit made before
// the todo's POST has answered waits for its id instead of being lost.

let nextKey = 1;
const COUNTS_DELAY_MS = 200; // a burst of changes to another list: one refetch of its counts

const byOrder = (a, b) => (a.order - b.order) || ((a.id ?? Infinity) - (b.id ?? Infinity));

// Waits until these todos have no request queued or on its way (a queue can grow while
// we wait: a create's answer may add the change made in the meantime).
async function settle(items) {
  let chains;
  do {
    chains = items.map((t) => t.chain);
    await Promise.all(chains);
  } while (items.some((t, i) => t.chain !== chains[i]));
}

function quoted(text, max = 40) {
  return `“${text.length > max ? `${text.slice(0, max)}…` : text}”`;
}

export class Store {
  constructor(api) {
    this.api = api;
    this.lists = [];
    this.listId = null;
    this.items = [];
    this.loading = true; // true until the current list's todos have arrived
    this.listeners = new Set();
    this.errorListeners = new Set();
    this.loadToken = 0;
    // Changes made elsewhere (the live feed), see "changes from elsewhere" below.
    this.remote = []; // events not applied yet: held while loading, editing or refreshing
    this.holds = new Set();
    this.deleted = new Set(); // ids of deleted todos: an older event never brings one back
    this.unknown = new Map(); // todos first seen in an event while an add of ours was on its way
    this.countTimers = new Map(); // list id -> pending refetch of its counts
    this.listGoneListeners = new Set();
  }

  // --- observers -------------------------------------------------------------

  subscribe(fn) { this.listeners.add(fn); }

  onError(fn) { this.errorListeners.add(fn); }

  // The list on screen was deleted elsewhere.
  onListGone(fn) { this.listGoneListeners.add(fn); }

  emit() {
    for (const fn of this.listeners) fn(this);
  }

  fail(message) {
    for (const fn of this.errorListeners) fn(message);
  }

  // --- lists -----------------------------------------------------------------

  get defaultListId() {
    const saved = this.lists.filter((l) => l.id != null);
    return saved.length ? Math.min(...saved.map((l) => l.id)) : null;
  }

  get currentList() {
    return this.listId === null ? null : this.lists.find((l) => l.id === this.listId) || null;
  }

  hasList(id) {
    return this.lists.some((l) => l.id === id);
  }

  // The lists as the app shows them. Counts are live for the list on screen (a local
  // change shows at once) and the server's last word for the others. The server refuses
  // to delete a user's last list, so the only saved list is not offered for deletion.
  get listSummaries() {
    const current = this.currentList;
    const live = current && !this.loading ? this.liveCounts() : null;
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

  // Shows a list: its todos replace the current ones. A slower answer for a list the
  // user has already left is ignored.
  async selectList(id) {
    const token = ++this.loadToken;
    const left = this.currentList;
    // The list left behind keeps the counts it had on screen (newer than the server's).
    if (left && !this.loading) Object.assign(left, this.liveCounts());
    this.listId = id;
    this.items = [];
    this.unknown.clear();
    this.loading = id !== null; // no list (the user has none): nothing to load
    this.emit();
    if (id === null) return;
    try {
      const todos = await this.api.todos.all(id);
      if (token !== this.loadToken) return;
      this.items = todos.map((t) => this.fromServer(t));
      this.loading = false;
      this.emit();
    } catch (error) {
      if (token !== this.loadToken) return;
      this.loading = false;
      this.emit();
      this.fail(`Could not load this list: ${error.message}`);
    }
    this.drainRemote(); // what changed while it loaded
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
      title: t.title,
      completed: t.completed,
      order: t.order,
      version: t.version, // the newest the server has told us of
      saved: { title: t.title, completed: t.completed },
      pending: 0, // changes sent but not answered yet
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

  // Resolves to true when saved, false when refused (the caller gives the text back).
  async add(title) {
    const listId = this.listId;
    if (listId === null) {
      this.fail('Create a list first: your todos go into a list.');
      return false;
    }
    const item = {
      key: `new-${nextKey++}`, id: null, title, completed: false, order: Infinity,
      saved: null, pending: 1, gone: false, chain: Promise.resolve(),
    };
    this.items.push(item);
    this.emit();
    let ok = true;
    item.chain = this.api.todos.create(listId, title).then(
      (saved) => {
        Object.assign(item, { id: saved.id, order: saved.order, version: saved.version });
        item.pending = 0;
        item.saved = { title: saved.title, completed: saved.completed };
        this.settleUnknown(saved.id);
        // Changes made while the POST was in flight are sent now, in the queue.
        const changed = item.completed !== saved.completed || item.title !== saved.title;
        if (!item.gone && changed) {
          this.sendUpdate(item, { title: item.title, completed: item.completed });
        }
        this.emit();
      },
      (error) => {
        ok = false;
        item.gone = true;
        this.items = this.items.filter((t) => t !== item);
        this.settleUnknown(null);
        this.emit();
        this.fail(`Could not add ${quoted(title)}: ${error.message}`);
      },
    );
    await item.chain;
    return ok;
  }

  // Resolves once the change is answered. `conditional`: only if nobody else changed the
  // todo meanwhile (If-Match its version), else the server's 412 tells the user.
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

  // An edit is saved only over the version it began from: changes from elsewhere are held
  // while it is open (see holdRemote), so the version the store holds is that one.
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
        } else {
          if (error.status === 412) this.confirm(item, error.problem.current);
          Object.assign(item, item.saved); // back to what the server last confirmed
        }
        this.fail(refusal(error, changes, item.saved.title));
      }
      this.emit();
    });
  }

  // The server's word on a todo, kept unless we already hold a newer one.
  confirm(item, todo) {
    if (item.version !== undefined && todo.version < item.version) return;
    item.version = todo.version;
    item.order = todo.order;
    item.saved = { title: todo.title, completed: todo.completed };
  }

  drop(item) {
    item.gone = true;
    this.items = this.items.filter((t) => t !== item);
  }

  remove(key) {
    const item = this.items.find((t) => t.key === key);
    if (!item) return;
    const listId = this.listId;
    item.gone = true;
    this.items = this.items.filter((t) => t !== item);
    this.emit();
    this.enqueue(item, async () => {
      if (item.id === null) return; // its POST failed: nothing to delete
      try {
        await this.api.todos.remove(item.id);
      } catch (error) {
        if (error.status === 404) return; // already deleted elsewhere
        item.gone = false;
        this.restore(listId, [item]);
        this.fail(`Could not delete ${quoted(item.title)}: ${error.message}`);
      }
    }, true);
  }

  // Puts todos back where they were (by order) after a refused delete.
  restore(listId, items) {
    if (this.listId !== listId) return; // the user has moved on to another list
    this.items = [...this.items, ...items].sort(byOrder);
    this.emit();
  }

  async clearCompleted() {
    const done = this.items.filter((t) => t.completed);
    if (!done.length) return;
    const listId = this.listId;
    this.items = this.items.filter((t) => !t.completed);
    this.emit();
    // Toggles still on their way must reach the server before it clears.
    await settle(done);
    for (const t of done) t.gone = true;
    try {
      await this.api.todos.clearCompleted(listId);
    } catch (error) {
      for (const t of done) t.gone = false;
      this.restore(listId, done);
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

  // --- changes from elsewhere (events of the live feed, js/live.js) ------------
  //
  // A todo takes an event's state only if the event's version is newer than the one we
  // hold, so the echo of our own change, or an event older than a fresh load, does
  // nothing. While our own change to a todo is on its way, the event only records the
  // server's state: the answer settles what shows (no flicker). A todo we do not know,
  // seen while an add of ours is on its way, may be that add: it waits for the answer
  // (no doubling). Events wait while the list loads and while a todo is being edited (it
  // is not moved or changed under the user's hands; its save then meets a 412 if someone
  // else changed it meanwhile).

  applyRemote(event) {
    this.remote.push(event);
    this.drainRemote();
  }

  // `reason` holds the events back until release(reason).
  holdRemote(reason) {
    this.holds.add(reason);
  }

  releaseRemote(reason) {
    this.holds.delete(reason);
    this.drainRemote();
  }

  drainRemote() {
    if (this.loading || this.holds.size || !this.remote.length) return;
    for (const event of this.remote.splice(0)) this.applyEvent(event);
    this.items.sort(byOrder);
    this.emit();
  }

  applyEvent(event) {
    if (event.kind.startsWith('list.')) {
      this.applyList(event.kind, event.list);
    } else if (event.list_id !== this.listId) {
      this.countsChanged(event.list_id);
    } else if (event.refetch) {
      this.refresh();
    } else {
      for (const todo of event.todos) {
        if (event.kind === 'todos.deleted') this.deletedRemotely(todo.id);
        else this.changedRemotely(todo);
      }
    }
  }

  changedRemotely(todo) {
    if (this.deleted.has(todo.id)) return;
    const item = this.items.find((t) => t.id === todo.id);
    if (todo.list_id !== this.listId) { // moved to another list
      if (item) this.drop(item);
      this.countsChanged(todo.list_id);
    } else if (item) {
      this.confirm(item, todo);
      if (item.pending === 0) Object.assign(item, item.saved);
    } else if (this.items.some((t) => t.id === null && !t.gone)) {
      this.unknown.set(todo.id, todo);
    } else {
      this.items.push(this.fromServer(todo));
    }
  }

  deletedRemotely(id) {
    this.deleted.add(id);
    this.unknown.delete(id);
    const item = this.items.find((t) => t.id === id);
    if (item) this.drop(item);
  }

  // An add of ours was answered (`id`, or null if refused): the todos we did not know are
  // others' once no add of ours is on its way any more.
  settleUnknown(id) {
    this.unknown.delete(id);
    if (this.items.some((t) => t.id === null && !t.gone)) return;
    for (const todo of this.unknown.values()) {
      if (!this.deleted.has(todo.id) && !this.items.some((t) => t.id === todo.id)) {
        this.items.push(this.fromServer(todo));
      }
    }
    this.unknown.clear();
    this.items.sort(byOrder);
  }

  applyList(kind, incoming) {
    const list = this.lists.find((l) => l.id === incoming.id);
    if (kind === 'list.deleted') {
      this.lists = this.lists.filter((l) => l !== list);
      if (list && list.id === this.listId) {
        queueMicrotask(() => this.listGoneListeners.forEach((fn) => fn(list)));
      }
    } else if (list) {
      if (incoming.version > list.version) Object.assign(list, incoming);
    } else if (!this.lists.some((l) => l.id === null && l.name === incoming.name)) {
      // (A list of ours on its way has the same name: names are unique, so it is ours.)
      this.lists.push({ ...incoming, key: String(incoming.id) });
      this.lists.sort((a, b) => (a.id ?? Infinity) - (b.id ?? Infinity));
    }
  }

  // Another list's todos changed: its counts are fetched again, once for a burst.
  countsChanged(listId) {
    if (this.countTimers.has(listId) || !this.hasList(listId)) return;
    this.countTimers.set(listId, setTimeout(async () => {
      this.countTimers.delete(listId);
      try {
        const fresh = await this.api.lists.get(listId);
        const list = this.lists.find((l) => l.id === listId);
        if (list) Object.assign(list, fresh);
      } catch (error) {
        if (error.status === 404) this.lists = this.lists.filter((l) => l.id !== listId);
      }
      this.emit();
    }, COUNTS_DELAY_MS));
  }

  // The current list again from the server, without blanking it: for a bulk change
  // that came as "refetch", and after a `reset`. Our own unanswered changes stay.
  async refresh() {
    const { listId, loadToken } = this;
    if (listId === null || this.loading) return;
    this.holdRemote('refresh');
    try {
      const todos = await this.api.todos.all(listId);
      if (loadToken === this.loadToken) {
        const mine = this.items.filter((t) => t.id === null || t.pending > 0);
        const known = new Set(mine.map((t) => t.id));
        const theirs = todos.filter((t) => !known.has(t.id) && !this.deleted.has(t.id));
        this.items = [...theirs.map((t) => this.fromServer(t)), ...mine].sort(byOrder);
      }
    } catch (error) {
      this.fail(`Could not refresh this list: ${error.message}`);
    }
    this.releaseRemote('refresh');
    this.emit();
  }

  // After a `reset`: what happened meanwhile is not known, so everything is fetched again.
  async reload() {
    try {
      const lists = await this.api.lists.all();
      const byId = new Map(this.lists.map((l) => [l.id, l]));
      this.lists = [
        ...lists.map((l) => Object.assign(byId.get(l.id) || { key: String(l.id) }, l)),
        ...this.lists.filter((l) => l.id === null),
      ];
    } catch (error) {
      this.fail(`Could not refresh your lists: ${error.message}`);
    }
    this.emit();
    await this.refresh();
  }
}

function refusal(error, changes, title) {
  const retitled = 'title' in changes && changes.title !== title;
  if (error.status === 412) {
    const yours = retitled ? `: your text ${quoted(changes.title, 200)} was not saved` : '';
    return `Someone else changed this todo while you edited it (it now reads ${quoted(title)})${yours}.`;
  }
  const what = retitled
    ? `the new title ${quoted(changes.title, 200)} for ${quoted(title)}`
    : quoted(title);
  return `Could not save ${what}: ${error.message}`;
}

function listMessage(error, name) {
  if (error.status === 409) return `there is already a list named ${quoted(name)}.`;
  return error.message;
}
