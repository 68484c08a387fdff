// Wiring only: the store holds state and talks to the API, the views touch the DOM,
// the router reads the URL. Nothing here knows about markup or HTTP.

import * as api from './api.js';
import { parseLocation, Router } from './router.js';
import { Store } from './store.js';
import { ConfirmDialog } from './views/confirm.js';
import { ListsView } from './views/lists.js';
import { Notice } from './views/notice.js';
import { ShareDialog } from './views/share.js';
import { SignInView } from './views/signin.js';
import { TodoView } from './views/todos.js';
import { TokensDialog } from './views/tokens.js';
import { UserMenu } from './views/usermenu.js';

const store = new Store(api);
const todoView = new TodoView(document.querySelector('.todoapp'));
const listsView = new ListsView(document.querySelector('.sidebar'));
const notice = new Notice(document.querySelector('.notice'));
const confirmDialog = new ConfirmDialog(document.querySelector('.confirm'));
const signIn = new SignInView();
const userMenu = new UserMenu(document.querySelector('.lists-panel'));
const tokensDialog = new TokensDialog();
const shareDialog = new ShareDialog();
const todoRoot = document.querySelector('.todoapp');
let filter = 'all';

function render() {
  const listName = store.currentList?.name;
  todoView.render({ items: store.items, filter, loading: store.loading, listName });
  listsView.render({ lists: store.listSummaries });
  document.title = listName ? `${listName} · todoapp` : 'todoapp';
  showReadOnly(store.currentList?.role === 'viewer');
}

// A list shared with the user as a viewer: shown, but nothing in it can be changed.
function showReadOnly(readOnly) {
  todoRoot.classList.toggle('read-only', readOnly);
  for (const box of todoRoot.querySelectorAll('.toggle, .toggle-all')) box.disabled = readOnly;
  todoRoot.querySelector('.new-todo').hidden = readOnly;
}
for (const type of ['dblclick', 'keydown']) {
  // Caught before the todo view's own handlers: no editing in a read-only list.
  todoRoot.querySelector('.todo-list').addEventListener(type, (event) => {
    const editing = type === 'dblclick' || (event.key === 'Enter' && !event.target.matches('.edit'));
    if (todoRoot.classList.contains('read-only') && editing) event.stopImmediatePropagation();
  }, { capture: true });
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
todoView.bindEdit((key, title) => store.edit(key, title));
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

// --- accounts ----------------------------------------------------------------------

let routing = false;

async function start() {
  let me;
  const lists = store.loadLists(); // next to who-am-I, not after it: no extra round trip
  lists.catch(() => {}); // its failure is handled below (or is the 401 of a signed-out user)
  try {
    me = await api.account.me();
    if (me === null) return; // signed out: the sign-in screen is up (onUnauthorized)
    await lists;
  } catch (error) {
    store.loading = false;
    render();
    notice.show(`Could not load your lists: ${error.message}`);
    return;
  }
  signIn.hide();
  if (me.username) userMenu.show(me.username); // none for AUTH=off's implicit user
  if (routing) {
    store.listId = null; // signed in again: load the list afresh
    await router.onChange(parseLocation());
  } else {
    routing = true;
    await router.start();
  }
}

api.onUnauthorized(() => {
  userMenu.hide();
  signIn.show(routing ? 'Your session has ended. Sign in again.' : '');
});
signIn.bindSubmit(async (mode, username, password) => {
  await (mode === 'signup' ? api.account.signUp : api.account.signIn)(username, password);
  await start();
});
tokensDialog.bind(api.tokens);
shareDialog.bind(api.members);
userMenu.bind({
  tokens: () => tokensDialog.open(),
  // A page load afterwards: nothing of this user stays in the page.
  signOut: async () => {
    await api.account.signOut().catch(() => {});
    window.location.assign('/');
  },
  everywhere: async () => {
    await api.account.signOutEverywhere().catch(() => {});
    window.location.assign('/');
  },
});
document.querySelector('.sidebar').addEventListener('click', (event) => {
  const button = event.target.closest('.share-list');
  if (!button) return;
  const list = store.lists.find((l) => l.id === Number(button.closest('li').dataset.id));
  if (list) shareDialog.open(list);
});

start();
