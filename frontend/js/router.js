// Where the user is: the list in the path (/lists/<id>, the default list at /) and the
// filter in the hash (#/, #/active, #/completed). Links are real URLs, so reload, Back
// and "open in new tab" work; switching lists uses pushState, never a page load.

const FILTERS = { '#/active': 'active', '#/completed': 'completed' };

export function parseLocation(location = window.location) {
  const match = location.pathname.match(/^\/lists\/(\d+)\/?$/);
  return {
    listId: match ? Number(match[1]) : null,
    filter: FILTERS[location.hash] || 'all',
  };
}

export class Router {
  constructor(onChange) {
    this.onChange = onChange;
  }

  start() {
    // Both fire for a filter link; onChange is cheap and idempotent.
    window.addEventListener('popstate', () => this.onChange(parseLocation()));
    window.addEventListener('hashchange', () => this.onChange(parseLocation()));
    return this.onChange(parseLocation());
  }

  // Shows another list, keeping the filter. `replace` fixes a bad URL without a history entry.
  goToList(id, { replace = false, isDefault = false } = {}) {
    const path = isDefault ? '/' : `/lists/${id}`;
    const url = path + window.location.hash;
    if (replace) window.history.replaceState(null, '', url);
    else window.history.pushState(null, '', url);
    return this.onChange(parseLocation());
  }
}
