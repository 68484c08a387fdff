// Keyboard shortcuts for the whole page, and the `?` dialog that lists them. A shortcut
// never fires while the user types in a field, with Ctrl/Alt/Meta held (those are the
// browser's or the todo list's own), or while a dialog is open.

const SEQUENCE_MS = 1500; // "g" then "l": the second key must follow within this time

const isTextField = (el) => el?.matches?.('input:not([type=checkbox]), textarea, select, [contenteditable]');

export class Shortcuts {
  // keys: { key: handler }, e.g. { n: fn, '/': fn }; sequences: { 'g l': fn }.
  constructor(help, keys, sequences) {
    this.help = help;
    this.keys = { ...keys, '?': () => this.showHelp() };
    this.sequences = sequences;
    this.pending = null; // the first key of a sequence, and when it was pressed
    document.addEventListener('keydown', (event) => this.onKey(event));
    help.querySelector('.help-close').addEventListener('click', () => help.close());
  }

  onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
    if (isTextField(event.target) || document.querySelector('dialog[open]')) return;
    const pending = this.pending;
    this.pending = null;
    if (pending && event.timeStamp - pending.at < SEQUENCE_MS) {
      const run = this.sequences[`${pending.key} ${event.key}`];
      if (run) {
        event.preventDefault();
        run();
        return;
      }
    }
    if (Object.keys(this.sequences).some((s) => s.startsWith(`${event.key} `))) {
      this.pending = { key: event.key, at: event.timeStamp };
      return;
    }
    const run = this.keys[event.key];
    if (!run) return;
    event.preventDefault(); // "n" focuses the field; it must not also type an "n" there
    run(event);
  }

  showHelp() {
    this.help.showModal();
    this.help.querySelector('.help-close').focus();
  }
}
