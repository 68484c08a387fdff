// Runs before the first paint (a classic script in <head>): sets data-theme on <html> from
// the theme the user chose (remembered in localStorage), else from the system's
// prefers-color-scheme, and keeps following the system while the user has not chosen.
// The stylesheet reads only data-theme, so each theme's colours are written once.
(function applyTheme() {
  var KEY = 'todoapp.theme';
  var root = document.documentElement;
  var system = window.matchMedia('(prefers-color-scheme: dark)');
  function chosen() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === 'dark' || value === 'light' ? value : null;
    } catch (error) {
      return null; // storage blocked: follow the system
    }
  }
  function apply() {
    root.dataset.theme = chosen() || (system.matches ? 'dark' : 'light');
  }
  apply();
  system.addEventListener('change', apply);
}());
