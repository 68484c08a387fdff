// Wiring only: the store holds state and talks to the API, the views touch the DOM,
// the router reads the URL. Nothing here knows about markup or HTTP.

import * as api from './api.js';
import { LiveFeed } from './live.js';
import { parseLocation, Router } from './router.js';
import { quoted, Store } from './store.js';
import { ConfirmDialog } from './views/confirm.js';
import { ConnectionView } from './views/connection.js';
import { queryWords } from './views/highlight.js';
import { ListsView } from './views/lists.js';
import { Notice } from './views/notice.js';
import { PointerReorder } from './views/reorder.js';
import { SearchView } from './views/search.js';
import { ShareDialog } from './views/share.js';
import { Shortcuts } from './views/shortcuts.js';
import { SignInView } from './views/signin.js';
import { ThemeToggle } from './views/theme.js';
import { TodoView } from './views/todos.js';
import { TokensDialog } from './views/tokens.js';
import { UndoNotice } from './views/undo-notice.js';
import { UserMenu } from './views/usermenu.js';

const store = new Store(api);
const todoView = new TodoView(document.querySelector('.todoapp'));
const listsView = new ListsView(document.querySelector('.sidebar'));
const searchView = new SearchView(document.querySelector('.search-form'));
const notice = new Notice(document.querySelector('.notice'));
const undoNotice = new UndoNotice(document.querySelector('.undo'));
const confirmDialog = new ConfirmDialog(document.querySelector('.confirm'));
const signIn = new SignInView();
const userMenu = new UserMenu(document.querySelector('.lists-panel'));
const tokensDialog = new TokensDialog();
const shareDialog = new ShareDialog();
const todoRoot = document.querySelector('.todoapp');
const announcer = document.querySelector('.announcer');
const connectionView = new ConnectionView(document.querySelector('.live-status'));
// Others' changes as they happen; the echo of our own changes nothing.
const live = new LiveFeed({
  onEvent: (event) => {
    store.applyRemote(event);
    document.documentElement.dataset.liveEvent = String(event.id); // a hint for tests
  },
  onReset: () => store.reload(),
  onStatus: (status) => connectionView.render(status),
});
new ThemeToggle(document.querySelector('.theme-toggle'));
let filter = 'all';
let lastListId = null; // the list to go back to when a search across lists ends

const VIEW_TITLES = { today: 'Today', upcoming: 'Upcoming', search: 'Search' };

function title() {
  const { view } = store.place;
  return view === 'list' ? store.currentList?.name || 'todos' : VIEW_TITLES[view];
}

function render() {
  const name = title();
  const place = { ...store.place, words: queryWords(store.place.q) };
  todoView.render({
    items: store.items,
    filter,
    loading: store.loading,
    title: name,
    place,
    bulk: store.showsWholeList,
    listName: (id) => store.listName(id),
  });
  listsView.render({ lists: store.listSummaries, view: store.place.view });
  searchView.render({ q: store.place.q, all: store.place.view === 'search' });
  document.title = name === 'todos' ? 'todoapp' : `${name} · todoapp`;
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

// Screen readers hear what a move did (the region is aria-live).
function announce(text) {
  announcer.textContent = '';
  announcer.textContent = text;
}

store.subscribe(render);
// A page-wide hint that changes are still being saved (also lets tests wait for quiet).
api.onActivity((count) => {
  document.documentElement.dataset.requests = String(count);
});
store.onError((message) => notice.show(message));
store.onDeleted((action, message) => undoNotice.show(action, message));
store.onListGone((id) => {
  if (store.place.view === 'list' && store.place.listId === id) {
    router.goToList(store.defaultListId, { replace: true, isDefault: true });
  }
});

// --- todos -------------------------------------------------------------------

todoView.bindAdd(async (text) => {
  if (!(await store.add(text))) todoView.restoreInput(text);
});
todoView.bindToggle((key) => store.toggle(key));
todoView.bindRemove((key) => store.remove(key));
// Edits are saved only over what the user saw when they began (If-Match); meanwhile, and
// until the save is answered, changes from elsewhere wait.
let saving = Promise.resolve();
todoView.bindEdit((key, text) => {
  saving = store.edit(key, text);
});
todoView.bindDetails((key, changes) => {
  saving = store.update(key, changes, true);
});
todoView.bindEditing((editing) => {
  if (editing) store.holdRemote();
  else saving.then(() => store.releaseRemote());
});
todoView.bindToggleAll((completed) => store.toggleAll(completed));
todoView.bindClearCompleted(() => store.clearCompleted());

async function move(key, targetKey) {
  const item = store.items.find((t) => t.key === key);
  if (!store.canReorder) {
    announce('Todos can be moved in a list, without a search.');
    return;
  }
  const moving = store.moveTo(key, targetKey);
  if (!moving) return;
  todoView.focusItem(key); // the element moved in the page: the focus stays with it
  const shown = [...document.querySelectorAll('.todo-list > li')];
  const at = shown.findIndex((li) => li.dataset.key === key) + 1;
  announce(`Moved ${quoted(item.title)} to position ${at} of ${shown.length}.`);
  if (!(await moving) && store.items.includes(item)) {
    announce(`${quoted(item.title)} is back at its place: the move was not saved.`);
  }
}

todoView.bindKeyboardMove(move);
new PointerReorder(document.querySelector('.todo-list'), {
  onMove: move,
  async onMoveToList(key, listId) {
    const item = store.items.find((t) => t.key === key);
    announce(`Moving ${quoted(item.title)} to the list ${quoted(store.listName(listId))}.`);
    await store.moveToList(key, listId);
  },
});

// --- undo --------------------------------------------------------------------

undoNotice.bind(async (action) => {
  const list = await store.undo(action);
  if (list) await router.goToList(list.id);
});

// --- places: lists, views across lists, search ------------------------------------

function samePlace(a, b) {
  return a.view === b.view && a.listId === b.listId && a.q === b.q;
}

const router = new Router(async (place) => {
  filter = place.filter;
  if (place.view === 'list' && place.listId !== null && !store.hasList(place.listId)) {
    notice.show(
      'This list does not exist (any more): it may have been deleted on another device. '
      + 'Here is your first list.',
    );
    await router.goToList(store.defaultListId, { replace: true, isDefault: true });
    return;
  }
  const shown = { ...place, listId: place.view === 'list' ? place.listId ?? store.defaultListId : null };
  if (shown.view === 'list') lastListId = shown.listId;
  // The server keeps at least one list; should there be none, the user makes one.
  if (shown.view === 'list' && shown.listId === null) {
    notice.show('There are no lists yet. Create one to start.');
  }
  if (!samePlace(shown, store.place) || shown.listId === null) await store.show(shown);
  else render();
});

searchView.bind(({ q, all }) => {
  const { view } = store.place;
  // Refining a search replaces its history entry; starting or leaving one adds an entry.
  const replace = Boolean(q && store.place.q);
  // Today and Upcoming span all lists: a search from there does too.
  if (all || (q && (view === 'today' || view === 'upcoming'))) {
    router.go({ view: 'search', q }, { replace });
  } else {
    const listId = view === 'list' ? store.place.listId : lastListId;
    const isDefault = view === 'list' && window.location.pathname === '/';
    router.go({ view: 'list', listId, q, isDefault }, { replace });
  }
});

listsView.bindSelect((id) => {
  if (id !== store.listId || store.place.q) router.goToList(id);
});
listsView.bindSelectView((view) => router.go({ view }));
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

// --- the keyboard ------------------------------------------------------------------

function onCurrent(action) {
  return () => {
    const li = todoView.current();
    if (li) action(li);
  };
}

const shortcuts = new Shortcuts(
  document.querySelector('dialog.help'),
  {
    n: () => todoView.focusInput(),
    '/': () => searchView.focus(),
    j: () => todoView.focusStep(1),
    k: () => todoView.focusStep(-1),
    x: onCurrent((li) => li.querySelector('.toggle').click()),
    e: onCurrent((li) => todoView.startEdit(li)),
    o: onCurrent((li) => todoView.setOpen(li, !li.classList.contains('open'))),
    '#': onCurrent((li) => todoView.remove(li)),
    Delete: onCurrent((li) => todoView.remove(li)),
  },
  { 'g l': () => listsView.focusLists() },
);
document.querySelector('.help-button').addEventListener('click', () => shortcuts.showHelp());


// --- accounts ----------------------------------------------------------------------

let routing = false;

async function start() {
  // First: what changes while the lists load is applied after them. (Signed out, the
  // stream's 401 is one failed attempt; onUnauthorized stops it.)
  live.start();
  undoNotice.resume(); // a delete made just before a reload can still be undone
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
  store.username = me.username; // (its shared lists come and go as they are shared)
  if (me.username) userMenu.show(me.username); // none for AUTH=off's implicit user
  if (routing) {
    store.place = { view: null, listId: null, q: '' }; // signed in again: load afresh
    await router.onChange(parseLocation());
  } else {
    routing = true;
    await router.start();
  }
}

api.onUnauthorized(() => {
  live.stop();
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
