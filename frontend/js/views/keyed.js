// Keyed rendering, shared by the views: each item keeps one element (found by its `key`)
// for its whole life, so a server answer updates the element in place and focus, edit
// state and element references survive. Elements move only when they are out of place.

export class KeyedList {
  // A new item's element is a copy of the <template>'s; `update(element, item)` brings an
  // element up to date (user text as textContent, never markup).
  constructor(container, template, update) {
    this.container = container;
    this.template = template;
    this.update = update;
    this.elements = new Map(); // key -> element, also for items not shown at the moment
  }

  // Shows `shown` (a subset of `items`, in its order); forgets the elements of keys that
  // are no longer in `items`, but keeps those merely not shown (a filter hides them).
  render(items, shown = items) {
    const alive = new Set(items.map((item) => item.key));
    for (const [key, element] of this.elements) {
      if (!alive.has(key)) {
        element.remove();
        this.elements.delete(key);
      }
    }
    // Moving an element takes it out of the page for a moment, and the focus with it: the
    // focused element is focused again once in place (a todo moved by someone else, or a
    // late answer putting the order back and forth, must not leave the keyboard nowhere).
    const focused = this.container.contains(document.activeElement) ? document.activeElement : null;
    let cursor = this.container.firstElementChild;
    for (const item of shown) {
      const element = this.elements.get(item.key) || this.add(item.key);
      this.update(element, item);
      if (element === cursor) cursor = cursor.nextElementSibling;
      else this.container.insertBefore(element, cursor);
    }
    // What is left after the cursor is not shown now.
    while (cursor) {
      const next = cursor.nextElementSibling;
      cursor.remove();
      cursor = next;
    }
    if (focused && focused.isConnected && document.activeElement !== focused) {
      focused.focus({ preventScroll: true });
    }
  }

  add(key) {
    const element = this.template.content.firstElementChild.cloneNode(true);
    element.dataset.key = key;
    this.elements.set(key, element);
    return element;
  }
}
