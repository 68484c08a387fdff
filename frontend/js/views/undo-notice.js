// "Deleted “milk”. Undo" for 8 seconds after a delete, and Ctrl+Z while it shows. The
// delete itself is done at once on the server (into its trash), so the notice only holds
// how to undo it; it is kept in sessionStorage, so that after a reload (or a crash) the
// notice is back for the seconds it had left, and its Undo still works.

const SHOW_MS = 8000;
const KEY = 'todoapp.undo';

const isTextField = (el) => el?.matches?.('input:not([type=checkbox]), textarea, [contenteditable]');

export class UndoNotice {
  constructor(root, storage = window.sessionStorage) {
    this.root = root;
    this.text = root.querySelector('.undo-text');
    this.button = root.querySelector('.undo-button');
    this.storage = storage;
    this.current = null; // { action, message, until }
    this.timer = null;
  }

  // handler(action): the user asked to undo (button or Ctrl+Z).
  bind(handler) {
    this.button.addEventListener('click', () => this.undo(handler));
    document.addEventListener('keydown', (event) => {
      const ctrlZ = (event.ctrlKey || event.metaKey) && !event.shiftKey && event.key === 'z';
      // In a text field Ctrl+Z undoes typing, as everywhere.
      if (!ctrlZ || !this.current || isTextField(event.target)) return;
      event.preventDefault();
      this.undo(handler);
    });
  }

  undo(handler) {
    const shown = this.current;
    if (!shown) return;
    this.hide();
    handler(shown.action);
  }

  show(action, message) {
    this.open({ action, message, until: Date.now() + SHOW_MS });
  }

  // After a reload: the notice of a delete made just before, for the time it had left.
  resume() {
    let saved = null;
    try {
      saved = JSON.parse(this.storage.getItem(KEY));
    } catch {
      saved = null; // unreadable or blocked storage: nothing to resume
    }
    if (saved?.action && saved.until > Date.now()) this.open(saved);
    else this.forget();
  }

  open(shown) {
    clearTimeout(this.timer);
    this.current = shown;
    this.text.textContent = shown.message;
    this.root.hidden = false;
    try {
      this.storage.setItem(KEY, JSON.stringify(shown));
    } catch {
      // Storage blocked: the notice still works until a reload.
    }
    this.timer = setTimeout(() => this.hide(), shown.until - Date.now());
  }

  hide() {
    clearTimeout(this.timer);
    this.current = null;
    this.root.hidden = true;
    this.forget();
  }

  forget() {
    try {
      this.storage.removeItem(KEY);
    } catch {
      // nothing stored
    }
  }
}
