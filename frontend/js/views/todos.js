// The TodoMVC part of the page. It only touches the DOM: user actions go out through
// the bind* hooks, state comes in through render(). Rendering is keyed (see keyed.js):
// each todo keeps its <li>, also while a filter hides it.

import { KeyedList } from './keyed.js';

const ENTER = 'Enter';
const ESCAPE = 'Escape';

const FILTERS = {
  all: () => true,
  active: (t) => !t.completed,
  completed: (t) => t.completed,
};

export class TodoView {
  constructor(root) {
    this.root = root;
    this.input = root.querySelector('.new-todo');
    this.title = root.querySelector('.list-title');
    this.loading = root.querySelector('.loading');
    this.main = root.querySelector('.main');
    this.toggleAllBox = root.querySelector('.toggle-all');
    this.list = root.querySelector('.todo-list');
    const template = root.querySelector('.todo-template');
    this.rows = new KeyedList(this.list, template, (li, todo) => this.updateItem(li, todo));
    this.footer = root.querySelector('.footer');
    this.count = root.querySelector('.todo-count');
    this.filterLinks = [...root.querySelectorAll('.filters a')];
    this.clearButton = root.querySelector('.clear-completed');
  }

  // --- events out ------------------------------------------------------------

  bindAdd(handler) {
    this.input.addEventListener('keydown', (event) => {
      if (event.key !== ENTER || event.isComposing) return;
      const title = this.input.value.trim();
      // Cleared at once: a second Enter finds it empty, so nothing is sent twice.
      this.input.value = '';
      if (title) handler(title);
    });
  }

  // A refused add gives its text back for another try, unless the user is typing anew.
  restoreInput(title) {
    if (!this.input.value) this.input.value = title;
  }

  bindToggle(handler) {
    this.list.addEventListener('change', (event) => {
      if (event.target.matches('.toggle')) handler(keyOf(event.target));
    });
  }

  bindRemove(handler) {
    this.list.addEventListener('click', (event) => {
      const button = event.target;
      // The second click of a double-click would hit the todo that moved up under the
      // pointer: only a single click (or keyboard activation, detail 0) deletes.
      if (!button.matches('.destroy') || event.detail > 1) return;
      const li = button.closest('li');
      const neighbour = li.nextElementSibling || li.previousElementSibling;
      const keyboard = event.detail === 0; // Enter or Space, not a pointer
      handler(li.dataset.key);
      // Keyboard users keep their place: focus moves to a neighbour, not to <body>.
      if (keyboard) (neighbour?.querySelector('.destroy') || this.input).focus();
    });
  }

  bindToggleAll(handler) {
    this.toggleAllBox.addEventListener('change', () => handler(this.toggleAllBox.checked));
  }

  bindClearCompleted(handler) {
    this.clearButton.addEventListener('click', () => handler());
  }

  bindEdit(handler) {
    this.list.addEventListener('dblclick', (event) => {
      if (event.target.matches('label')) this.startEdit(event.target.closest('li'));
    });
    // Keyboard users: Enter on the focused label starts editing as well.
    this.list.addEventListener('keydown', (event) => {
      const target = event.target;
      if (target.matches('label') && event.key === ENTER) {
        event.preventDefault();
        this.startEdit(target.closest('li'));
      } else if (target.matches('.edit') && event.key === ENTER) {
        this.finishEdit(target.closest('li'), handler, true);
      } else if (target.matches('.edit') && event.key === ESCAPE) {
        this.finishEdit(target.closest('li'), null, true);
      }
    });
    // Blur saves, but only while still editing: after Enter or Escape it does nothing.
    this.list.addEventListener('focusout', (event) => {
      if (event.target.matches('.edit')) {
        this.finishEdit(event.target.closest('li'), handler, false);
      }
    });
  }

  // `handler(true)` when an edit begins, `handler(false)` when it ends (after bindEdit's
  // handler has had the text).
  bindEditing(handler) {
    this.editingHandler = handler;
  }

  startEdit(li) {
    if (!li || li.classList.contains('editing')) return;
    const edit = li.querySelector('.edit');
    edit.value = li.querySelector('label').textContent;
    li.classList.add('editing');
    this.editingHandler?.(true);
    edit.focus();
    edit.setSelectionRange(edit.value.length, edit.value.length);
  }

  // `refocus`: after Enter/Escape the keyboard user stays on the todo; after a blur the
  // focus is wherever the user moved it.
  finishEdit(li, handler, refocus) {
    if (!li || !li.classList.contains('editing')) return;
    const edit = li.querySelector('.edit');
    li.classList.remove('editing');
    if (handler) handler(li.dataset.key, edit.value.trim());
    this.editingHandler?.(false);
    if (refocus && li.isConnected) li.querySelector('label').focus();
  }

  // --- state in --------------------------------------------------------------

  render({ items, filter, loading, listName }) {
    this.root.setAttribute('aria-busy', String(loading));
    this.loading.hidden = !loading;
    this.title.textContent = listName || 'todos';

    this.rows.render(items, items.filter(FILTERS[filter] || FILTERS.all));

    const active = items.filter((t) => !t.completed).length;
    const completed = items.length - active;
    const empty = items.length === 0;
    this.main.hidden = empty;
    this.footer.hidden = empty;
    this.toggleAllBox.checked = !empty && active === 0;
    this.renderCount(active);
    this.clearButton.hidden = completed === 0;
    for (const link of this.filterLinks) {
      const selected = link.getAttribute('href') === `#/${filter === 'all' ? '' : filter}`;
      link.classList.toggle('selected', selected);
      if (selected) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  }

  renderCount(active) {
    const strong = document.createElement('strong');
    strong.textContent = String(active);
    this.count.replaceChildren(strong, ` ${active === 1 ? 'item' : 'items'} left`);
  }

  updateItem(li, item) {
    li.classList.toggle('completed', item.completed);
    li.classList.toggle('pending', item.id === null);
    if (item.id !== null) li.dataset.id = String(item.id);
    const label = li.querySelector('label');
    // textContent, never innerHTML: a title is user text, not markup.
    if (label.textContent !== item.title) label.textContent = item.title;
    label.title = 'Double-click or press Enter to edit';
    const toggle = li.querySelector('.toggle');
    toggle.checked = item.completed;
    toggle.setAttribute('aria-label', `Complete “${item.title}”`);
    li.querySelector('.destroy').setAttribute('aria-label', `Delete “${item.title}”`);
    li.querySelector('.edit').setAttribute('aria-label', `Edit “${item.title}”`);
  }
}

function keyOf(element) {
  return element.closest('li').dataset.key;
}
