// The sidebar: the lists with their active counts, a field to create one, inline rename
// and delete. On narrow screens the "Lists" button folds it into a menu. Like the todo
// view it is keyed: each list keeps its <li>, so a rename in progress survives answers.

export class ListsView {
  constructor(root) {
    this.root = root;
    this.toggleButton = root.querySelector('.lists-toggle');
    this.panel = root.querySelector('.lists-panel');
    this.list = root.querySelector('.lists');
    this.form = root.querySelector('.new-list-form');
    this.input = root.querySelector('.new-list');
    this.elements = new Map(); // list key -> <li>

    this.toggleButton.addEventListener('click', () => this.setOpen(!this.isOpen()));
    // Escape closes the open menu (but not a rename in progress, which handles it).
    root.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || !this.isOpen() || event.target.matches('.list-edit')) return;
      this.setOpen(false);
      this.toggleButton.focus();
    });
  }

  isOpen() {
    return this.toggleButton.getAttribute('aria-expanded') === 'true';
  }

  // Only has a visible effect on narrow screens, where the panel is a menu.
  setOpen(open) {
    this.toggleButton.setAttribute('aria-expanded', String(open));
    this.root.classList.toggle('open', open);
  }

  // --- events out ------------------------------------------------------------

  bindSelect(handler) {
    this.list.addEventListener('click', (event) => {
      const link = event.target.closest('a.list-link');
      // Let the browser handle new-tab and other modified clicks.
      if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      this.setOpen(false);
      const id = Number(link.closest('li').dataset.id);
      if (id) handler(id);
    });
  }

  bindCreate(handler) {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const name = this.input.value.trim();
      this.input.value = ''; // at once: a fast second Enter finds nothing to send
      if (name) handler(name);
    });
  }

  restoreInput(name) {
    if (!this.input.value) this.input.value = name;
  }

  bindRename(handler) {
    this.list.addEventListener('click', (event) => {
      if (event.target.matches('.rename-list')) this.startRename(event.target.closest('li'));
    });
    this.list.addEventListener('dblclick', (event) => {
      if (event.target.closest('a.list-link')) this.startRename(event.target.closest('li'));
    });
    this.list.addEventListener('keydown', (event) => {
      if (!event.target.matches('.list-edit')) return;
      if (event.key === 'Enter') this.finishRename(event.target.closest('li'), handler, true);
      if (event.key === 'Escape') this.finishRename(event.target.closest('li'), null, true);
    });
    this.list.addEventListener('focusout', (event) => {
      if (event.target.matches('.list-edit')) {
        this.finishRename(event.target.closest('li'), handler, false);
      }
    });
  }

  startRename(li) {
    if (!li || li.classList.contains('editing') || !li.dataset.id) return;
    const edit = li.querySelector('.list-edit');
    edit.value = li.querySelector('.list-name').textContent;
    li.classList.add('editing');
    edit.focus();
    edit.select();
  }

  // `refocus` after Enter/Escape only: a blur leaves the focus where the user put it.
  finishRename(li, handler, refocus) {
    if (!li || !li.classList.contains('editing')) return;
    li.classList.remove('editing');
    const name = li.querySelector('.list-edit').value.trim();
    // An empty name is not a way to delete a list: it just cancels.
    if (handler && name) handler(Number(li.dataset.id), name);
    if (refocus && li.isConnected) li.querySelector('.rename-list').focus();
  }

  bindDelete(handler) {
    this.list.addEventListener('click', (event) => {
      if (event.target.matches('.delete-list')) {
        const li = event.target.closest('li');
        handler(Number(li.dataset.id), li.querySelector('.list-name').textContent);
      }
    });
  }

  // --- state in --------------------------------------------------------------

  render({ lists, currentId }) {
    const keys = new Set(lists.map((l) => l.key));
    for (const [key, li] of this.elements) {
      if (!keys.has(key)) {
        li.remove();
        this.elements.delete(key);
      }
    }
    let cursor = this.list.firstElementChild;
    for (const list of lists) {
      const li = this.elements.get(list.key) || this.createItem(list.key);
      this.updateItem(li, list, list.id === currentId, lists.length > 1);
      if (li === cursor) cursor = cursor.nextElementSibling;
      else this.list.insertBefore(li, cursor);
    }
  }

  createItem(key) {
    const li = document.createElement('li');
    li.dataset.key = key;
    const link = document.createElement('a');
    link.className = 'list-link';
    const name = document.createElement('span');
    name.className = 'list-name';
    const count = document.createElement('span');
    count.className = 'list-count';
    const shared = document.createElement('span'); // "alice · viewer" on others' lists
    shared.className = 'list-shared';
    link.append(name, shared, count);
    const rename = document.createElement('button');
    rename.type = 'button';
    rename.className = 'rename-list';
    rename.textContent = 'Rename';
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'delete-list';
    remove.textContent = 'Delete';
    const edit = document.createElement('input');
    edit.className = 'list-edit';
    edit.maxLength = 200;
    const share = document.createElement('button');
    share.type = 'button';
    share.className = 'share-list';
    share.textContent = 'Share';
    li.append(link, edit, rename, share, remove);
    this.elements.set(key, li);
    return li;
  }

  updateItem(li, list, current, deletable) {
    const saved = list.id !== null;
    if (saved) {
      li.dataset.id = String(list.id);
      li.querySelector('.list-link').href = `/lists/${list.id}`;
    }
    li.classList.toggle('pending', !saved);
    li.classList.toggle('current', current);
    const link = li.querySelector('.list-link');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
    li.querySelector('.list-name').textContent = list.name;
    const count = li.querySelector('.list-count');
    count.textContent = String(list.active_count);
    count.setAttribute('aria-label', `${list.active_count} active`);
    li.querySelector('.list-edit').setAttribute('aria-label', `New name for “${list.name}”`);
    li.querySelector('.rename-list').setAttribute('aria-label', `Rename “${list.name}”`);
    const remove = li.querySelector('.delete-list');
    remove.setAttribute('aria-label', `Delete “${list.name}”`);
    // The last list stays: the app always shows one.
    remove.disabled = !saved || !deletable;
    li.querySelector('.rename-list').disabled = !saved;
    // Shared lists: whose, and what the user may do. Only owners share or delete; viewers
    // do not rename. (AUTH=off: every list is the implicit user's, whose owner is null.)
    const owned = !list.role || list.role === 'owner';
    li.querySelector('.list-shared').textContent = owned ? '' : `${list.owner} · ${list.role}`;
    const share = li.querySelector('.share-list');
    share.hidden = !owned || !list.owner;
    share.setAttribute('aria-label', `Share “${list.name}”`);
    remove.hidden = !owned;
    li.querySelector('.rename-list').hidden = list.role === 'viewer';
  }
}
