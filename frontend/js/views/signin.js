// The sign-in and sign-up screen (AUTH=on, nobody signed in). One form, two modes; the
// fields carry the autocomplete tokens password managers look for, and errors are read
// out (role="alert"). It covers the app, which stays in the page: a todo being typed when
// the session ended is still in its field after signing in again.

import { el } from './dom.js';

export class SignInView {
  constructor() {
    this.mode = 'signin';
    this.heading = el('h1', { className: 'signin-heading', id: 'signin-heading' });
    this.error = el('p', { className: 'signin-error', role: 'alert' });
    this.username = el('input', {
      id: 'signin-username', name: 'username', autocomplete: 'username', required: true,
      minLength: 3, maxLength: 40, autocapitalize: 'none', spellcheck: false,
    });
    this.password = el('input', {
      id: 'signin-password', name: 'password', type: 'password', required: true, maxLength: 1000,
    });
    this.hint = el('p', { className: 'signin-hint', id: 'signin-hint' });
    this.submit = el('button', { type: 'submit', className: 'signin-submit' });
    this.switchButton = el('button', { type: 'button', className: 'signin-switch' });
    this.form = el(
      'form', { className: 'signin-form', 'aria-labelledby': 'signin-heading' },
      this.heading,
      el('label', { htmlFor: 'signin-username' }, 'Username'), this.username,
      el('label', { htmlFor: 'signin-password' }, 'Password'), this.password,
      this.hint, this.error, this.submit, this.switchButton,
    );
    this.root = el('section', { className: 'signin', hidden: true }, this.form);
    document.body.prepend(this.root);
    this.switchButton.addEventListener('click', () => {
      this.setMode(this.mode === 'signin' ? 'signup' : 'signin');
      this.username.focus();
    });
    this.setMode('signin');
  }

  setMode(mode) {
    this.mode = mode;
    const signup = mode === 'signup';
    this.heading.textContent = signup ? 'Create an account' : 'Sign in to todoapp';
    this.submit.textContent = signup ? 'Create account' : 'Sign in';
    this.switchButton.textContent = signup ? 'I have an account: sign in' : 'Create an account';
    this.password.autocomplete = signup ? 'new-password' : 'current-password';
    this.password.minLength = signup ? 10 : 0;
    this.hint.textContent = signup
      ? 'Username: 3 to 40 letters, digits, “.”, “_” or “-”. Password: at least 10 characters.'
      : '';
    this.password.setAttribute('aria-describedby', 'signin-hint');
    this.error.textContent = '';
  }

  // handler(mode, username, password) resolves when signed in, rejects with the reason.
  bindSubmit(handler) {
    this.form.addEventListener('submit', async (event) => {
      event.preventDefault();
      this.error.textContent = '';
      this.submit.disabled = true;
      try {
        await handler(this.mode, this.username.value.trim(), this.password.value);
        this.password.value = '';
      } catch (error) {
        this.error.textContent = error.message;
        this.password.focus();
      } finally {
        this.submit.disabled = false;
      }
    });
  }

  show(message = '') {
    this.root.hidden = false;
    document.body.classList.add('signed-out');
    this.error.textContent = message;
    this.username.focus();
  }

  hide() {
    this.root.hidden = true;
    document.body.classList.remove('signed-out');
  }
}
