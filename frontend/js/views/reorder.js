// Drag to reorder with Pointer Events: one code path for mouse, pen and touch. The todo
// follows the pointer by its handle, the others make room, and the drop reports where it
// landed: the place of another todo, or a list in the sidebar (a move to that list).
// Only transforms change while dragging (set through the CSSOM, which the CSP allows);
// the DOM order changes once, when the store has applied the move.

export class PointerReorder {
  // onMove(key, targetKey), onMoveToList(key, listId)
  constructor(list, { onMove, onMoveToList }) {
    this.list = list;
    this.onMove = onMove;
    this.onMoveToList = onMoveToList;
    this.drag = null;
    list.addEventListener('pointerdown', (event) => this.start(event));
    // Listening on the handle, which holds the pointer capture while dragging.
    list.addEventListener('pointermove', (event) => this.follow(event));
    list.addEventListener('pointerup', (event) => this.drop(event));
    list.addEventListener('pointercancel', () => this.cancel());
    // The handle is for pointers; keyboard users have Alt+↑/↓. No native drag either.
    list.addEventListener('dragstart', (event) => event.preventDefault());
  }

  start(event) {
    const handle = event.target.closest('.drag-handle');
    if (!handle || this.drag || (event.pointerType === 'mouse' && event.button !== 0)) return;
    event.preventDefault(); // no text selection, no focus change
    const li = handle.closest('li');
    const items = [...this.list.children];
    handle.setPointerCapture(event.pointerId);
    this.drag = {
      li,
      key: li.dataset.key,
      pointerId: event.pointerId,
      startY: event.clientY,
      from: items.indexOf(li),
      items,
      // Midpoints before anything moves: where each todo is while the others make room.
      middles: items.map((item) => {
        const box = item.getBoundingClientRect();
        return box.top + box.height / 2;
      }),
      height: li.getBoundingClientRect().height,
      to: items.indexOf(li),
      overList: null,
    };
    li.classList.add('dragging');
    this.list.classList.add('drag-active');
  }

  follow(event) {
    const drag = this.drag;
    if (!drag || event.pointerId !== drag.pointerId) return;
    const dy = event.clientY - drag.startY;
    drag.li.style.transform = `translateY(${dy}px)`;
    const centre = drag.middles[drag.from] + dy;
    let to = drag.from;
    while (to < drag.items.length - 1 && drag.middles[to + 1] < centre) to += 1;
    while (to > 0 && drag.middles[to - 1] > centre) to -= 1;
    drag.to = to;
    drag.items.forEach((item, i) => {
      if (item === drag.li) return;
      let shift = 0;
      if (drag.from < i && i <= to) shift = -drag.height;
      if (to <= i && i < drag.from) shift = drag.height;
      item.style.transform = shift ? `translateY(${shift}px)` : '';
    });
    this.hoverList(event.clientX, event.clientY);
  }

  // A list of the sidebar under the pointer is a drop target (a move to that list).
  hoverList(x, y) {
    const row = document.elementFromPoint(x, y)?.closest('.lists li[data-id]');
    const target = row && !row.classList.contains('current') ? row : null;
    if (target === this.drag.overList) return;
    this.drag.overList?.classList.remove('drop-target');
    target?.classList.add('drop-target');
    this.drag.overList = target;
  }

  drop(event) {
    const drag = this.drag;
    if (!drag || event.pointerId !== drag.pointerId) return;
    this.cancel();
    if (drag.overList) {
      this.onMoveToList(drag.key, Number(drag.overList.dataset.id));
    } else if (drag.to !== drag.from) {
      this.onMove(drag.key, drag.items[drag.to].dataset.key);
    }
  }

  cancel() {
    const drag = this.drag;
    if (!drag) return;
    this.drag = null;
    drag.overList?.classList.remove('drop-target');
    for (const item of drag.items) item.style.transform = '';
    drag.li.classList.remove('dragging');
    this.list.classList.remove('drag-active');
  }
}
