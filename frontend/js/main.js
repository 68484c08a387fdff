// Wiring only: the store holds state and talks to the API, the views touch the DOM,
// the router reads the URL. Nothing here knows about markup or HTTP.

import * as api from './api.js';
import { LiveFeed } from './live.js';
import { Router } from './router.js';
import { Store } from './store.js';
import { ConfirmDialog } from './views/confirm.js';
import { ConnectionView } from './views/connection.js';
import { ListsView } from './views/lists.js';
import { Notice } from './views/notice.js';
import { TodoView } from './views/todos.js';

const store = new Store(api);
const todoView = new TodoView(document.querySelector('.todoapp'));
const listsView = new ListsView(document.querySelector('.sidebar'));
const notice = new Notice(document.querySelector('.notice'));
const confirmDialog = new ConfirmDialog(document.querySelector('.confirm'));
const connectionView = new ConnectionView(document.querySelector('.live-status'));
// Others' changes as they happen; own changes come back too and change nothing.
const live = new LiveFeed({
  onEvent: (event) => {
    store.applyRemote(event);
    document.documentElement.dataset.liveEvent = String(event.id); // a hint for tests
  },
  onReset: () => store.reload(),
  onStatus: (status) => connectionView.render(status),
});
let filter = 'all';

function render() {
  const listName = store.currentList?.name;
  todoView.render({ items: store.items, filter, loading: store.loading, listName });
  listsView.render({ lists: store.listSummaries });
  document.title = listName ? `${listName} · todoapp` : 'todoapp';
}

store.subscribe(render);
// A page-wide hint that changes are still being saved (also lets tests wait for quiet).
api.onActivity((count) => {
  document.documentElement.dataset.requests = String(count);
});
store.onError((message) => notice.show(message));

todoView.bindAdd(async (title) => {
  if (!(await store.add(title))) todoView.restoreInput(title);
});
todoView.bindToggle((key) => store.toggle(key));
todoView.bindRemove((key) => store.remove(key));
let editSaved = Promise.resolve();
todoView.bindEdit((key, title) => {
  editSaved = store.edit(key, title);
});
// Changes from elsewhere wait while a todo is edited, and until its edit is saved.
todoView.bindEditing((editing) => {
  if (editing) store.holdRemote('edit');
  else editSaved.then(() => store.releaseRemote('edit'));
});
todoView.bindToggleAll((completed) => store.toggleAll(completed));
todoView.bindClearCompleted(() => store.clearCompleted());

const router = new Router(async (place) => {
  filter = place.filter;
  if (place.listId !== null && !store.hasList(place.listId)) {
    notice.show(`There is no list with id ${place.listId}. Showing your first list instead.`);
    await router.goToList(store.defaultListId, { replace: true, isDefault: true });
    return;
  }
  const id = place.listId ?? store.defaultListId;
  // The server keeps at least one list; should there be none, the user makes one.
  if (id === null) notice.show('There are no lists yet. Create one to start.');
  if (id !== store.listId || id === null) await store.selectList(id);
  else render();
});

store.onListGone((list) => {
  notice.show(`The list ${list.name ? `“${list.name}” ` : ''}was deleted elsewhere.`);
  router.goToList(store.defaultListId, { replace: true, isDefault: true });
});

listsView.bindSelect((id) => {
  if (id !== store.listId) router.goToList(id);
});
listsView.bindCreate(async (name) => {
  const list = await store.createList(name);
  if (list) await router.goToList(list.id);
  else listsView.restoreInput(name);
});
listsView.bindRename((id, name) => store.renameList(id, name));
listsView.bindDelete(async (id, name) => {
  const sure = await confirmDialog.ask(`Delete the list “${name}” and all its todos?`);
  if (!sure) return;
  const leaving = id === store.listId;
  const deleting = store.deleteList(id);
  // Leave the deleted list at once (replace: its URL is dead); come back if refused.
  if (leaving) await router.goToList(store.defaultListId, { replace: true, isDefault: true });
  if (!(await deleting) && leaving) await router.goToList(id, { replace: true });
});

async function start() {
  live.start(); // first: what changes while the lists load is applied after them
  try {
    await store.loadLists();
  } catch (error) {
    store.loading = false;
    render();
    notice.show(`Could not load your lists: ${error.message}`);
    return;
  }
  await router.start();
}

start();
