// Where the user is: the list in the path (/lists/<id>, the default list at /), a view
// across lists (/today, /upcoming, /search), a search in the query (?q=words), and the
// filter in the hash (#/, #/active, #/completed). Links are real URLs, so reload, Back and
// "open in new tab" work; moving around uses pushState, never a page load.

const FILTERS = { '#/active': 'active', '#/completed': 'completed' };
const VIEWS = { '/today': 'today', '/upcoming': 'upcoming', '/search': 'search' };

export function parseLocation(location = window.location) {
  const match = location.pathname.match(/^\/lists\/(\d+)\/?$/);
  const view = VIEWS[location.pathname.replace(/\/$/, '')] || 'list';
  return {
    view,
    listId: match ? Number(match[1]) : null,
    q: (new URLSearchParams(location.search).get('q') || '').trim(),
    filter: FILTERS[location.hash] || 'all',
  };
}

// The URL of a place (the hash, the filter, is kept by the caller).
function pathOf({ view, listId = null, q = '', isDefault = false }) {
  const path = view === 'list' ? (isDefault || listId === null ? '/' : `/lists/${listId}`) : `/${view}`;
  return q ? `${path}?${new URLSearchParams({ q })}` : path;
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

  // Shows another place, keeping the filter. `replace` fixes a bad URL, or refines the
  // search being typed, without a history entry.
  go(place, { replace = false } = {}) {
    const url = pathOf(place) + window.location.hash;
    if (replace) window.history.replaceState(null, '', url);
    else window.history.pushState(null, '', url);
    return this.onChange(parseLocation());
  }

  goToList(id, { replace = false, isDefault = false } = {}) {
    return this.go({ view: 'list', listId: id, isDefault }, { replace });
  }
}
