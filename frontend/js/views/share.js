// Sharing a list the user owns: who has it (editor: may change its todos and its name;
// viewer: may only read), changing a role, removing someone, adding a username.

import { DialogView, el } from './dom.js';

const ROLES = ['editor', 'viewer'];

function roleSelect(value, label) {
  const select = el('select', { className: 'member-role', 'aria-label': label });
  for (const role of ROLES) select.append(el('option', { value: role }, role));
  select.value = value;
  return select;
}

export class ShareDialog extends DialogView {
  constructor() {
    const heading = el('h2', { id: 'share-heading' });
    const members = el('ul', { className: 'member-list', 'aria-label': 'People with access' });
    const username = el('input', {
      id: 'share-username', className: 'share-username', required: true, maxLength: 40,
      autocomplete: 'off', autocapitalize: 'none', spellcheck: false,
    });
    const role = roleSelect('viewer', 'Role');
    role.id = 'share-role';
    const form = el(
      'form', { className: 'share-form' },
      el('label', { htmlFor: 'share-username' }, 'Share with (username)'), username,
      el('label', { htmlFor: 'share-role' }, 'as'), role,
      el('button', { type: 'submit' }, 'Share'),
    );
    super('share-dialog', 'share-heading', heading, members, form);
    Object.assign(this, { heading, members, username, role, form });
  }

  // api: { all, set, remove } of members
  bind(api) {
    this.api = api;
    this.onSubmit(this.form, this.username, (username) => (
      api.set(this.listId, username, this.role.value)
    ));
    this.members.addEventListener('change', async (event) => {
      if (!event.target.matches('.member-role')) return;
      const { username } = event.target.closest('li').dataset;
      await this.attempt(async () => {
        await api.set(this.listId, username, event.target.value);
        await this.refresh();
      });
    });
    this.members.addEventListener('click', async (event) => {
      const button = event.target.closest('.member-remove');
      if (!button) return;
      await this.attempt(async () => {
        await api.remove(this.listId, button.closest('li').dataset.username);
        await this.refresh();
      });
    });
  }

  async open(list) {
    this.listId = list.id;
    this.heading.textContent = `Share “${list.name}”`;
    this.error.textContent = '';
    this.members.replaceChildren();
    this.dialog.showModal();
    this.username.focus();
    await this.attempt(() => this.refresh());
  }

  async refresh() {
    const members = await this.api.all(this.listId);
    this.members.replaceChildren(...members.map((m) => {
      const li = el('li', { 'data-username': m.username },
        el('span', { className: 'member-name' }, m.username));
      if (m.role === 'owner') {
        li.append(el('span', { className: 'member-owner' }, 'owner'));
      } else {
        li.append(
          roleSelect(m.role, `Role of ${m.username}`),
          el('button', { type: 'button', className: 'member-remove', 'aria-label': `Remove ${m.username}` },
            'Remove'),
        );
      }
      return li;
    }));
  }
}
