// Access tokens for scripts: a dialog to list, create, copy and revoke them. A new token's
// secret is shown once, in a read-only field with a Copy button; afterwards only its name
// and dates are known.

import { DialogView, el } from './dom.js';

const when = (iso) => (iso ? new Date(iso).toLocaleString() : 'never');

export class TokensDialog extends DialogView {
  constructor() {
    const list = el('ul', { className: 'token-list', 'aria-label': 'Your access tokens' });
    const name = el('input', {
      id: 'token-name', className: 'token-name', maxLength: 100, required: true,
      autocomplete: 'off', placeholder: 'e.g. backup script',
    });
    const form = el(
      'form', { className: 'token-form' },
      el('label', { htmlFor: 'token-name' }, 'New token name'), name,
      el('button', { type: 'submit' }, 'Create token'),
    );
    const secret = el('input', {
      className: 'token-secret', readOnly: true, 'aria-label': 'The new token',
    });
    const copy = el('button', { type: 'button', className: 'token-copy' }, 'Copy');
    const fresh = el(
      'div', { className: 'token-fresh', hidden: true },
      el('p', {}, 'Copy this token now: it will not be shown again.'), secret, copy,
    );
    super(
      'tokens-dialog', 'tokens-heading',
      el('h2', { id: 'tokens-heading' }, 'Access tokens'),
      el('p', {}, 'Scripts send a token as “Authorization: Bearer <token>”.'),
      list, form, fresh,
    );
    Object.assign(this, { list, name, form, secret, copy, fresh });
    copy.addEventListener('click', async () => {
      secret.select();
      try {
        await navigator.clipboard.writeText(secret.value);
        copy.textContent = 'Copied';
      } catch {
        copy.textContent = 'Press Ctrl+C'; // selected: the keyboard copies it
      }
    });
  }

  // api: { all, create, revoke }
  bind(api) {
    this.api = api;
    this.onSubmit(this.form, this.name, async (name) => {
      const created = await api.create(name);
      this.secret.value = created.token;
      this.copy.textContent = 'Copy';
      this.fresh.hidden = false;
      this.secret.focus();
      this.secret.select();
    });
    this.list.addEventListener('click', async (event) => {
      const button = event.target.closest('.token-revoke');
      if (!button) return;
      await this.attempt(async () => {
        await api.revoke(Number(button.closest('li').dataset.id));
        await this.refresh();
      });
    });
  }

  async open() {
    this.fresh.hidden = true;
    this.secret.value = '';
    this.error.textContent = '';
    this.dialog.showModal();
    this.name.focus();
    await this.attempt(() => this.refresh());
  }

  async refresh() {
    const tokens = await this.api.all();
    this.list.replaceChildren(...tokens.map((t) => el(
      'li', { 'data-id': String(t.id) },
      el('span', { className: 'token-label' }, t.name),
      el('span', { className: 'token-dates' },
        `created ${when(t.created_at)}, last used ${when(t.last_used_at)}`),
      el('button', { type: 'button', className: 'token-revoke', 'aria-label': `Revoke “${t.name}”` },
        'Revoke'),
    )));
    if (!tokens.length) this.list.append(el('li', { className: 'token-none' }, 'No tokens yet.'));
  }
}
