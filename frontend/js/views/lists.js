// The sidebar: the views across lists (Today, Upcoming), the lists with their active
// counts, a field to create one, inline rename and delete; a todo dragged onto a list moves
// there (see reorder.js). On narrow screens the "Lists" button folds it into a menu. Like
// the todo view it is keyed (see keyed.js): each list keeps its <li>, so a rename in
// progress survives answers.

import { KeyedList } from './keyed.js';

export class ListsView {
  constructor(root) {
    this.root = root;
    this.list = root.querySelector('.lists');
    this.views = [...root.querySelectorAll('.smart-views li')];
    const template = root.querySelector('.list-template');
    this.rows = new KeyedList(this.list, template, (li, list) => this.updateItem(li, list));
    this.form = root.querySelector('.new-list-form');
    this.input = root.querySelector('.new-list');
    // Why the only list has no working delete button (its accessible description).
    this.onlyListHint = root.querySelector('.only-list-hint');
    this.toggleButton = root.querySelector('.lists-toggle');

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

  // handler(view): "today" or "upcoming" chosen.
  bindSelectView(handler) {
    for (const li of this.views) {
      li.querySelector('a').addEventListener('click', (event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        this.setOpen(false);
        handler(li.dataset.view);
      });
    }
  }

  // `g l`: to the lists, at the one on screen (the menu opens on narrow screens).
  focusLists() {
    this.setOpen(true);
    const link = this.list.querySelector('.current .list-link') || this.list.querySelector('.list-link');
    link?.focus();
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
      const button = event.target.closest('.rename-list');
      if (button) this.startRename(button.closest('li'));
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
      // aria-disabled (not disabled): the only list's button stays focusable, so that
      // its explanation can be heard, but it does nothing.
      const button = event.target.closest('.delete-list:not([aria-disabled="true"])');
      if (button) {
        const li = button.closest('li');
        handler(Number(li.dataset.id), li.querySelector('.list-name').textContent);
      }
    });
  }

  // --- state in --------------------------------------------------------------

  // `lists`: the store's list summaries (counts, current, deletable); `view`: the view
  // across lists on screen, if it is one.
  render({ lists, view }) {
    this.rows.render(lists);
    for (const li of this.views) {
      const current = li.dataset.view === view;
      li.classList.toggle('current', current);
      const link = li.querySelector('a');
      if (current) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  }

  updateItem(li, list) {
    const saved = list.id !== null;
    if (saved) {
      li.dataset.id = String(list.id);
      li.querySelector('.list-link').href = `/lists/${list.id}`;
    }
    li.classList.toggle('pending', !saved);
    li.classList.toggle('current', list.current);
    const link = li.querySelector('.list-link');
    if (list.current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
    li.querySelector('.list-name').textContent = list.name;
    link.title = list.name; // the whole name, where the sidebar cuts it
    const count = li.querySelector('.list-count');
    count.textContent = String(list.active_count);
    count.setAttribute('aria-label', `${list.active_count} active`);
    li.querySelector('.list-edit').setAttribute('aria-label', `New name for “${list.name}”`);
    const rename = li.querySelector('.rename-list');
    rename.setAttribute('aria-label', `Rename “${list.name}”`);
    rename.disabled = !saved;
    this.updateDelete(li.querySelector('.delete-list'), list, saved);
    this.updateSharing(li, list);
  }

  // Shared lists say whose they are and the user's role. Only owners share or delete;
  // viewers do not rename. (AUTH=off: every list is the implicit user's: no owner name.)
  updateSharing(li, list) {
    const owned = !list.role || list.role === 'owner';
    li.querySelector('.list-shared').textContent = owned ? '' : `${list.owner} · ${list.role}`;
    const share = li.querySelector('.share-list');
    share.hidden = !owned || !list.owner;
    share.setAttribute('aria-label', `Share “${list.name}”`);
    li.querySelector('.delete-list').hidden = !owned;
    li.querySelector('.rename-list').hidden = list.role === 'viewer';
  }

  // The server refuses to delete the only list: its button says why instead.
  updateDelete(button, list, saved) {
    button.setAttribute('aria-label', `Delete “${list.name}”`);
    button.disabled = !saved; // not saved yet: nothing to delete, for a moment
    const only = saved && !list.deletable;
    button.setAttribute('aria-disabled', String(only));
    if (only) {
      button.setAttribute('aria-describedby', this.onlyListHint.id);
      button.title = this.onlyListHint.textContent.trim();
    } else {
      button.removeAttribute('aria-describedby');
      button.removeAttribute('title');
    }
  }
}
