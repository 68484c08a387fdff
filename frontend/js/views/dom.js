// A tiny element builder for the account views, which make their own markup: el('p',
// { className: 'x', hidden: true }, 'text', child). Text is always set as text, never as
// markup, so user input cannot become HTML.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key in node && !key.includes('-')) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

// What the account dialogs share: a modal <dialog> with a heading, an error line read out
// when something fails, and a Close button.
export class DialogView {
  constructor(className, headingId, ...children) {
    this.error = el('p', { className: 'dialog-error', role: 'alert' });
    this.close = el('button', { type: 'button', className: 'dialog-close' }, 'Close');
    this.dialog = el(
      'dialog', { className, 'aria-labelledby': headingId }, ...children, this.error, this.close,
    );
    document.body.append(this.dialog);
    this.close.addEventListener('click', () => this.dialog.close());
  }

  // On submit of `form`: the trimmed text of `field`, if any, goes to action(text); then
  // the field is emptied and the dialog's list refreshed (errors show in the dialog).
  onSubmit(form, field, action) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = field.value.trim();
      if (!text) return;
      await this.attempt(async () => {
        await action(text);
        field.value = '';
        await this.refresh();
      });
    });
  }

  // Runs task(); a failure's message shows in the dialog.
  async attempt(task) {
    this.error.textContent = '';
    try {
      await task();
    } catch (error) {
      this.error.textContent = error.message;
    }
  }
}
