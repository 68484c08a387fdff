// Search words marked in a todo's title, built from text nodes and <mark> elements: the
// title stays text and never becomes markup (no innerHTML anywhere).
//
// The words are those of the query the server searched with (websearch syntax: "or" and
// -excluded words do not count), and a title word is marked where it starts with one of
// them, as the server's prefix match finds "groceries" for "gro".

const WORD = /[\p{L}\p{N}]+/gu;

export function queryWords(q) {
  const excluded = new Set([...(q || '').matchAll(/(?:^|\s)-([\p{L}\p{N}]+)/gu)].map((m) => m[1]));
  const words = (q || '').match(WORD) || [];
  return [...new Set(words)]
    .filter((w) => w.toLowerCase() !== 'or' && !excluded.has(w))
    .map((w) => w.toLowerCase());
}

// Fills `element` with `text`, the words in `words` marked.
export function highlight(element, text, words) {
  const key = `${text}\u0000${words.join(' ')}`;
  if (element.dataset.shown === key) return; // nothing changed: keep the nodes
  element.dataset.shown = key;
  if (!words.length) {
    element.textContent = text;
    return;
  }
  const nodes = [];
  let done = 0;
  for (const match of text.matchAll(WORD)) {
    const lower = match[0].toLowerCase();
    const word = words.find((w) => lower.startsWith(w));
    if (!word) continue;
    if (match.index > done) nodes.push(document.createTextNode(text.slice(done, match.index)));
    const mark = document.createElement('mark');
    mark.textContent = match[0].slice(0, word.length);
    nodes.push(mark);
    done = match.index + word.length;
  }
  if (done < text.length) nodes.push(document.createTextNode(text.slice(done)));
  element.replaceChildren(...nodes);
}
