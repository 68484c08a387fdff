// The error banner: visible until dismissed (role="alert", so screen readers announce
// it). Several failures in a row are all listed, so no refused text scrolls out of
// sight; the same message twice is shown once.

const MAX_MESSAGES = 5;

export class Notice {
  constructor(root) {
    this.root = root;
    this.list = root.querySelector('.notice-messages');
    root.querySelector('.notice-dismiss').addEventListener('click', () => this.hide());
  }

  show(message) {
    const shown = [...this.list.children].map((li) => li.textContent);
    if (!shown.includes(message)) {
      const item = document.createElement('li');
      item.textContent = message;
      this.list.append(item);
      while (this.list.children.length > MAX_MESSAGES) this.list.firstElementChild.remove();
    }
    this.root.hidden = false;
  }

  hide() {
    this.root.hidden = true;
    this.list.replaceChildren();
  }
}
