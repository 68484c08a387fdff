// A real confirmation dialog (<dialog>): modal, keyboard-friendly (focus stays inside,
// Escape cancels), styled like the app. Resolves to true only on "Delete".

export class ConfirmDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.text = dialog.querySelector('.confirm-text');
    this.cancel = dialog.querySelector('.confirm-cancel');
    dialog.querySelector('.confirm-ok').addEventListener('click', () => dialog.close('ok'));
    this.cancel.addEventListener('click', () => dialog.close('cancel'));
  }

  ask(message) {
    this.text.textContent = message;
    this.dialog.returnValue = '';
    return new Promise((resolve) => {
      // Escape closes the dialog with an empty returnValue: that counts as "no".
      this.dialog.addEventListener('close', () => resolve(this.dialog.returnValue === 'ok'), {
        once: true,
      });
      this.dialog.showModal();
      this.cancel.focus(); // the safe choice is the default
    });
  }
}
