// Masonry fit: the server sizes each card for 236px columns (grid-row-end: span N). Where the
// columns are narrower (phones) or a title wraps differently, measure each card and fix its span.
// Without JavaScript the server's spans still give a readable grid.
(function () {
  "use strict";

  function fitCard(card, rowHeight, gap) {
    const last = card.lastElementChild;
    if (!last) return;
    const contentHeight = last.offsetTop + last.offsetHeight;
    const span = Math.ceil((contentHeight + gap) / rowHeight);
    card.style.gridRowEnd = "span " + span;
  }

  function fitGrid(grid) {
    const style = getComputedStyle(grid);
    const rowHeight = parseFloat(style.gridAutoRows) || 4;
    const gap = parseFloat(style.columnGap) || 16;
    grid.querySelectorAll(".pin-card").forEach((card) => fitCard(card, rowHeight, gap));
  }

  function fitAll() {
    document.querySelectorAll(".pin-grid").forEach(fitGrid);
  }

  let pending = null;
  function fitSoon() {
    if (pending) cancelAnimationFrame(pending);
    pending = requestAnimationFrame(fitAll);
  }

  document.addEventListener("DOMContentLoaded", fitAll);
  window.addEventListener("resize", fitSoon);
  document.addEventListener("htmx:afterSettle", fitSoon);
})();
