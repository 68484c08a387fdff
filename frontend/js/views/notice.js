// The error banner: a visible, dismissible message (role="alert" so screen readers
// announce it). A newer message replaces the older one.

export class Notice {
  constructor(root) {
    this.root = root;
    this.text = root.querySelector('.notice-text');
    root.querySelector('.notice-dismiss').addEventListener('click', () => this.hide());
  }

  show(message) {
    this.text.textContent = message;
    this.root.hidden = false;
  }

  hide() {
    this.root.hidden = true;
    this.text.textContent = '';
  }
}
