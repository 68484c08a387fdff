// The light/dark switch. js/theme-init.js applied the theme before the first paint; this
// button flips it and remembers the choice (localStorage), which from then on wins over
// the system's prefers-color-scheme.

const KEY = 'todoapp.theme';

export class ThemeToggle {
  constructor(button, root = document.documentElement) {
    this.button = button;
    this.root = root;
    button.addEventListener('click', () => this.set(this.isDark() ? 'light' : 'dark'));
    // theme-init.js follows the system until the user chooses: keep the button in step.
    new MutationObserver(() => this.render()).observe(root, { attributeFilter: ['data-theme'] });
    this.render();
  }

  isDark() {
    return this.root.dataset.theme === 'dark';
  }

  set(theme) {
    this.root.dataset.theme = theme;
    try {
      window.localStorage.setItem(KEY, theme);
    } catch {
      // Storage blocked (private mode): the choice lasts for this page only.
    }
  }

  render() {
    this.button.setAttribute('aria-pressed', String(this.isDark()));
  }
}
