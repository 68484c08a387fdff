// A discreet line that says when the live updates are not coming in: offline, or
// reconnecting. Nothing shows while they are (or while the first connection is made).

const TEXT = {
  offline: 'Offline: changes made elsewhere will show when you are back.',
  reconnecting: 'Reconnecting…',
};

export class ConnectionView {
  constructor(root) {
    this.root = root;
  }

  render(status) {
    const text = TEXT[status];
    this.root.hidden = !text;
    this.root.textContent = text || '';
    this.root.dataset.status = status;
  }
}
