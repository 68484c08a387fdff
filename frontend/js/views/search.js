// The search box: results as the user types (debounced), over the list on screen or, with
// "All lists", over every list. The query lives in the URL (see router.js), so a search can
// be linked and reloaded; this view only reports what the user typed.

const DEBOUNCE_MS = 250;

export class SearchView {
  constructor(form) {
    this.form = form;
    this.input = form.querySelector('.search');
    this.all = form.querySelector('.search-all');
    this.timer = null;
  }

  // handler({ q, all }) runs after the user paused typing, at once on Enter or a scope change.
  bind(handler) {
    const now = () => {
      clearTimeout(this.timer);
      handler({ q: this.input.value.trim(), all: this.all.checked });
    };
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(now, DEBOUNCE_MS);
    });
    this.all.addEventListener('change', now);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      now();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || !this.input.value) return;
      event.preventDefault();
      this.input.value = '';
      now();
    });
  }

  // Shows the search of the URL (reload, Back), unless the user is typing a newer one.
  render({ q, all }) {
    if (document.activeElement !== this.input && this.input.value !== q) this.input.value = q;
    this.all.checked = all;
  }

  focus() {
    this.input.focus();
    this.input.select();
  }
}
