// The signed-in user's menu, at the top of the sidebar: who is signed in, their access
// tokens, sign out, and sign out everywhere (every browser and device).

import { el } from './dom.js';

export class UserMenu {
  constructor(container) {
    this.button = el('button', {
      type: 'button', className: 'user-button', 'aria-expanded': 'false',
      'aria-controls': 'user-menu-items', 'aria-haspopup': 'true',
    });
    this.tokens = el('button', { type: 'button', className: 'open-tokens' }, 'Access tokens');
    this.signOut = el('button', { type: 'button', className: 'sign-out' }, 'Sign out');
    this.everywhere = el(
      'button', { type: 'button', className: 'sign-out-everywhere' }, 'Sign out everywhere',
    );
    this.items = el(
      'div', { className: 'user-menu-items', id: 'user-menu-items', hidden: true },
      this.tokens, this.signOut, this.everywhere,
    );
    this.root = el('div', { className: 'user-menu', hidden: true }, this.button, this.items);
    container.prepend(this.root);
    this.button.addEventListener('click', () => this.setOpen(this.items.hidden));
    this.root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.items.hidden) {
        event.stopPropagation();
        this.setOpen(false);
        this.button.focus();
      }
    });
  }

  setOpen(open) {
    this.items.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
  }

  bind({ tokens, signOut, everywhere }) {
    const close = (fn) => () => { this.setOpen(false); fn(); };
    this.tokens.addEventListener('click', close(tokens));
    this.signOut.addEventListener('click', close(signOut));
    this.everywhere.addEventListener('click', close(everywhere));
  }

  show(username) {
    this.button.textContent = username;
    this.button.setAttribute('aria-label', `Account: ${username}`);
    this.root.hidden = false;
  }

  hide() {
    this.setOpen(false);
    this.root.hidden = true;
  }
}
