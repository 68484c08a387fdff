// The TodoMVC part of the page. It only touches the DOM: user actions go out through
// the bind* hooks, state comes in through render(). Rendering is keyed (see keyed.js):
// each todo keeps its <li>, also while a filter hides it. A todo opens (the chevron, or
// `o`) to show its whole title, its due date and its notes.

import * as dates from '../dates.js';
import { highlight } from './highlight.js';
import { KeyedList } from './keyed.js';

const ENTER = 'Enter';
const TYPED_INTO = '.edit, .due-input, .notes'; // a todo's fields the user types into
const ESCAPE = 'Escape';

const FILTERS = {
  all: () => true,
  active: (t) => !t.completed,
  completed: (t) => t.completed,
};

// What an empty view across lists says (an empty list shows just the new-todo field).
function emptyMessage(place) {
  if (place.view === 'today') return 'Nothing due today or overdue.';
  if (place.view === 'upcoming') return 'Nothing planned: todos due after today show up here.';
  if (place.view === 'search') {
    return place.q ? 'No todo matches this search.' : 'Type in the search box to search all lists.';
  }
  return place.q ? 'No todo of this list matches this search.' : '';
}

// The controls of a todo's row that take the focus.
const FOCUSABLE = ['.toggle', '.summary label', '.destroy', '.open'];

const isTextField = (el) => el.matches('input:not([type=checkbox]), textarea');

export class TodoView {
  constructor(root) {
    this.root = root;
    this.input = root.querySelector('.new-todo');
    this.title = root.querySelector('.list-title');
    this.loading = root.querySelector('.loading');
    this.empty = root.querySelector('.empty-view');
    this.main = root.querySelector('.main');
    this.toggleAllBox = root.querySelector('.toggle-all');
    this.list = root.querySelector('.todo-list');
    const template = root.querySelector('.todo-template');
    this.rows = new KeyedList(this.list, template, (li, todo) => this.updateItem(li, todo));
    this.footer = root.querySelector('.footer');
    this.count = root.querySelector('.todo-count');
    this.filterLinks = [...root.querySelectorAll('.filters a')];
    this.clearButton = root.querySelector('.clear-completed');
    this.shown = { words: [], acrossLists: false, listName: () => '', today: dates.today() };
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
      const button = event.target.closest('.destroy');
      // The second click of a double-click would hit the todo that moved up under the
      // pointer: only a single click (or keyboard activation, detail 0) deletes.
      if (!button || event.detail > 1) return;
      this.remove(button.closest('li'), handler, event.detail === 0);
    });
    this.removeHandler = handler;
  }

  // `keyboard`: the user keeps their place: focus moves to the same control of a
  // neighbour (its delete button by default), not to <body>.
  remove(li, handler = this.removeHandler, keyboard = true) {
    const neighbour = li.nextElementSibling || li.previousElementSibling;
    const part = FOCUSABLE.find((s) => li.contains(document.activeElement)
      && document.activeElement.matches(s)) || '.destroy';
    handler(li.dataset.key);
    if (keyboard) (neighbour?.querySelector(part) || this.input).focus();
  }

  bindToggleAll(handler) {
    this.toggleAllBox.addEventListener('change', () => handler(this.toggleAllBox.checked));
  }

  bindClearCompleted(handler) {
    this.clearButton.addEventListener('click', () => handler());
  }

  bindEdit(handler) {
    this.list.addEventListener('dblclick', (event) => {
      if (event.target.closest('.summary label')) this.startEdit(event.target.closest('li'));
    });
    // Keyboard users: Enter on the focused label starts editing as well.
    this.list.addEventListener('keydown', (event) => {
      const target = event.target;
      if (target.matches('.summary label') && event.key === ENTER) {
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

  startEdit(li) {
    if (!li || li.classList.contains('editing')) return;
    const edit = li.querySelector('.edit');
    edit.value = li.querySelector('.summary label').textContent;
    li.classList.add('editing');
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
    if (refocus && li.isConnected) li.querySelector('.summary label').focus();
  }

  // handler(true) when the user starts to type into a todo (its title, due date or notes),
  // handler(false) when they leave it (after bindEdit's and bindDetails' handlers have had
  // what they typed).
  bindEditing(handler) {
    this.list.addEventListener('focusin', (event) => {
      if (event.target.matches(TYPED_INTO)) handler(true);
    });
    this.list.addEventListener('focusout', (event) => {
      if (event.target.matches(TYPED_INTO)) handler(false);
    });
  }

  // handler(key, { due } | { notes }): a change in an opened todo.
  bindDetails(handler) {
    this.list.addEventListener('click', (event) => {
      const open = event.target.closest('.open');
      if (open) this.setOpen(open.closest('li'), !open.closest('li').classList.contains('open'));
      if (event.target.closest('.due-clear')) {
        const li = event.target.closest('li');
        li.querySelector('.due-input').value = '';
        handler(li.dataset.key, { due: null });
      }
    });
    // `change`: a date picked (or typed in full), notes left after typing.
    this.list.addEventListener('change', (event) => {
      const key = event.target.closest('li')?.dataset.key;
      if (event.target.matches('.due-input')) handler(key, { due: event.target.value || null });
      if (event.target.matches('.notes')) handler(key, { notes: event.target.value || null });
    });
  }

  setOpen(li, open) {
    li.classList.toggle('open', open);
    li.querySelector('.details').hidden = !open;
    li.querySelector('.open').setAttribute('aria-expanded', String(open));
    if (open) li.querySelector('.due-input').focus();
  }

  // handler(key, toKey): Alt+↑ / Alt+↓ on a todo moves it above / below its neighbour.
  bindKeyboardMove(handler) {
    this.list.addEventListener('keydown', (event) => {
      if (!event.altKey || !['ArrowUp', 'ArrowDown'].includes(event.key)) return;
      if (isTextField(event.target)) return;
      const li = event.target.closest('li');
      const other = event.key === 'ArrowUp' ? li.previousElementSibling : li.nextElementSibling;
      event.preventDefault();
      if (other) handler(li.dataset.key, other.dataset.key);
    });
  }

  // --- for the keyboard shortcuts ----------------------------------------------

  focusInput() {
    this.input.focus();
  }

  // The todo the keyboard works on: the one holding the focus.
  current() {
    return document.activeElement?.closest('.todo-list > li') || null;
  }

  // j / k: the next or previous todo (the first when none has the focus).
  focusStep(step) {
    const items = [...this.list.children];
    if (!items.length) return;
    const at = items.indexOf(this.current());
    const next = at < 0 ? 0 : Math.min(items.length - 1, Math.max(0, at + step));
    items[next].querySelector('.summary label').focus();
  }

  focusItem(key) {
    this.rows.elements.get(key)?.querySelector('.summary label').focus();
  }

  // --- state in --------------------------------------------------------------

  // `place`: what is on screen (a list, today, upcoming, search); `bulk`: whether "mark
  // all" and "clear completed" apply (a whole list is shown); `listName(id)` names lists.
  render({ items, filter, loading, title, place, bulk, listName }) {
    this.root.setAttribute('aria-busy', String(loading));
    this.root.dataset.view = place.view;
    this.root.classList.toggle('reorderable', bulk);
    this.loading.hidden = !loading;
    this.title.textContent = title;
    this.title.title = title; // the whole name, when the heading cuts it

    const acrossLists = place.view !== 'list';
    this.shown = { words: place.words, acrossLists, listName, today: dates.today() };
    this.rows.render(items, items.filter(FILTERS[filter] || FILTERS.all));

    const active = items.filter((t) => !t.completed).length;
    const completed = items.length - active;
    const empty = items.length === 0;
    this.main.hidden = empty;
    this.footer.hidden = empty;
    const message = emptyMessage(place);
    this.empty.hidden = !empty || loading || !message;
    this.empty.textContent = message;
    this.toggleAllBox.hidden = !bulk;
    this.toggleAllBox.nextElementSibling.hidden = !bulk;
    this.toggleAllBox.checked = !empty && active === 0;
    this.renderCount(active);
    this.clearButton.hidden = completed === 0 || !bulk;
    this.renderFilters(filter);
  }

  renderFilters(filter) {
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
    const label = li.querySelector('.summary label');
    // Text nodes and <mark>s, never innerHTML: a title is user text, not markup.
    highlight(label, item.title, this.shown.words);
    label.title = 'Double-click or press Enter to edit';
    const toggle = li.querySelector('.toggle');
    toggle.checked = item.completed;
    toggle.setAttribute('aria-label', `Complete “${item.title}”`);
    li.querySelector('.destroy').setAttribute('aria-label', `Delete “${item.title}”`);
    li.querySelector('.edit').setAttribute('aria-label', `Edit “${item.title}”`);
    li.querySelector('.open').setAttribute('aria-label', `Details of “${item.title}”`);
    li.querySelector('.meta').hidden = !(this.shown.acrossLists || item.due || item.notes);
    const tag = li.querySelector('.list-tag');
    tag.hidden = !this.shown.acrossLists;
    tag.textContent = this.shown.acrossLists ? this.shown.listName(item.list_id) : '';
    this.updateDue(li, item);
    this.updateDetails(li, item);
  }

  updateDue(li, item) {
    const badge = li.querySelector('.due-badge');
    badge.hidden = !item.due;
    const overdue = dates.isOverdue(item, this.shown.today);
    li.classList.toggle('overdue', overdue);
    if (!item.due) return;
    const when = dates.describe(item.due, this.shown.today);
    const text = overdue ? `Overdue: ${when}` : when;
    const shown = li.querySelector('.due-text');
    if (shown.textContent !== text) shown.textContent = text;
    badge.title = `Due ${item.due}`;
  }

  updateDetails(li, item) {
    li.querySelector('.has-notes').classList.toggle('present', Boolean(item.notes));
    const details = li.querySelector('.details');
    details.id = `details-${li.dataset.key}`;
    li.querySelector('.open').setAttribute('aria-controls', details.id);
    const due = li.querySelector('.due-input');
    due.setAttribute('aria-label', `Due date of “${item.title}”`);
    showValue(due, item.due || '');
    const clear = li.querySelector('.due-clear');
    clear.disabled = !item.due;
    clear.setAttribute('aria-label', `No due date for “${item.title}”`);
    const notes = li.querySelector('.notes');
    notes.setAttribute('aria-label', `Notes of “${item.title}”`);
    showValue(notes, item.notes || '');
  }
}

// Shows a todo's value in its field when it changed (an answer, a rollback), but not
// over what the user is typing there while nothing changed (any other render).
function showValue(field, value) {
  if (field.dataset.shown === value && document.activeElement === field) return;
  field.dataset.shown = value;
  if (field.value !== value) field.value = value;
}

function keyOf(element) {
  return element.closest('li').dataset.key;
}
