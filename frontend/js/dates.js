// Due dates are calendar days ("2031-03-14"), as the API stores them: no time, no zone.
// "Today" is the user's, from the browser's clock and time zone; the server is told the
// zone (tz=) when it decides what is overdue, so both agree.

const DAY_MS = 24 * 60 * 60 * 1000;

// The browser's IANA time zone (e.g. "Europe/Paris"), for the API's tz= parameter.
export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

function pad(n) {
  return String(n).padStart(2, '0');
}

// A local Date as YYYY-MM-DD.
function iso(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// YYYY-MM-DD -> a Date at local noon (noon: daylight saving shifts never change the day).
function parse(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d, 12);
}

export function today() {
  return iso(new Date());
}

export function addDays(day, count) {
  const date = parse(day);
  date.setDate(date.getDate() + count);
  return iso(date);
}

function daysBetween(from, to) {
  return Math.round((parse(to) - parse(from)) / DAY_MS);
}

const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'long' });
const sameYear = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
const otherYear = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });

// How a due date reads next to a todo: "Today", "Tomorrow", "Friday", "Mon 3 Mar", ...
export function describe(day, now = today()) {
  const away = daysBetween(now, day);
  if (away === 0) return 'Today';
  if (away === 1) return 'Tomorrow';
  if (away === -1) return 'Yesterday';
  const date = parse(day);
  if (away > 1 && away < 7) return weekday.format(date);
  return (date.getFullYear() === parse(now).getFullYear() ? sameYear : otherYear).format(date);
}

// A todo is overdue when its day has passed and it is not done (the API's overdue=true).
export function isOverdue(todo, now = today()) {
  return Boolean(todo.due) && !todo.completed && todo.due < now;
}
