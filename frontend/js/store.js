// Application state and its persistence. Every change is applied locally first
// (optimistic), sent at once, and rolled back if the server refuses it.
//
// Todos carry a `key` that never changes (the server id once known, a temporary
// "new-N" before) so the view can keep one DOM element per todo across answers.
// Requests for one todo run in order through a per-todo queue: an edit made before
// the todo's POST has answered waits for its id instead of being lost.

let nextKey = 1;

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
  }

  // --- observers -------------------------------------------------------------

  subscribe(fn) { this.listeners.add(fn); }

  onError(fn) { this.errorListeners.add(fn); }

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
        Object.assign(item, { id: saved.id, order: saved.order, pending: 0 });
        item.saved = { title: saved.title, completed: saved.completed };
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
        this.emit();
        this.fail(`Could not add ${quoted(title)}: ${error.message}`);
      },
    );
    await item.chain;
    return ok;
  }

  update(key, changes) {
    const item = this.items.find((t) => t.key === key);
    // Nothing to send when nothing changes (an edit closed without typing, for one).
    if (!item || Object.entries(changes).every(([field, value]) => item[field] === value)) return;
    Object.assign(item, changes);
    this.emit();
    // Before the POST answers, the create's completion handler sends the change.
    if (item.id !== null) this.sendUpdate(item, changes);
  }

  toggle(key) {
    const item = this.items.find((t) => t.key === key);
    if (item) this.update(key, { completed: !item.completed });
  }

  edit(key, title) {
    if (title) this.update(key, { title });
    else this.remove(key);
  }

  sendUpdate(item, changes) {
    item.pending += 1;
    return this.enqueue(item, async () => {
      try {
        const saved = await this.api.todos.update(item.id, changes);
        item.saved = { title: saved.title, completed: saved.completed };
        item.pending -= 1;
        // A later change is still on its way: its answer will settle the state.
        if (item.pending === 0) Object.assign(item, item.saved);
      } catch (error) {
        item.pending -= 1;
        if (error.status === 404) {
          this.drop(item);
        } else {
          Object.assign(item, item.saved); // back to what the server last confirmed
        }
        const what = 'title' in changes && changes.title !== item.saved.title
          ? `the new title ${quoted(changes.title, 200)} for ${quoted(item.saved.title)}`
          : quoted(item.saved.title);
        this.fail(`Could not save ${what}: ${error.message}`);
      }
      this.emit();
    });
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
}

function listMessage(error, name) {
  if (error.status === 409) return `there is already a list named ${quoted(name)}.`;
  return error.message;
}
