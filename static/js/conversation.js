// The conversation page: newest message in view, Enter sends, a live character counter.
// Progressive enhancement only: without this file every form still posts and the page still
// opens at #latest from links and redirects.
(function () {
  "use strict";

  const numbers = new Intl.NumberFormat();

  function scrollToLatest() {
    const latest = document.getElementById("latest");
    if (latest) latest.scrollIntoView({ block: "end" });
  }

  // "1,234 / 2,000" under a textarea[data-counter] (its aria-describedby names the output).
  function updateCounter(field) {
    const ids = (field.getAttribute("aria-describedby") || "").split(/\s+/);
    const output = ids.map((id) => document.getElementById(id)).find((el) => el && el.classList.contains("char-count"));
    if (!output) return;
    const limit = Number(field.getAttribute("maxlength")) || 0;
    const used = field.value.length;
    output.textContent = numbers.format(used) + " / " + numbers.format(limit);
    output.classList.toggle("char-count--near", limit > 0 && used >= limit * 0.9);
  }

  function initCounters(root) {
    root.querySelectorAll("textarea[data-counter]").forEach(updateCounter);
  }

  document.addEventListener("input", (event) => {
    if (event.target.matches?.("textarea[data-counter]")) updateCounter(event.target);
  });

  // Enter sends, Shift+Enter starts a new line (as does Enter while an IME is composing).
  document.addEventListener("keydown", (event) => {
    const field = event.target;
    if (event.key !== "Enter" || !field.matches?.("textarea[data-enter-sends]")) return;
    if (event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    event.preventDefault();
    const form = field.form;
    if (!form || form.getAttribute("aria-busy") === "true") return; // already sending (app.js)
    const attachment = form.elements.namedItem("attachment");
    if (!field.value.trim() && !(attachment && attachment.value)) return; // nothing to send
    form.requestSubmit();
  });

  // A message can arrive twice (a double submit answered with the same message, or a live
  // update racing the send's own answer): keep the first.
  function dropDuplicates(list) {
    const seen = new Set();
    list.querySelectorAll(":scope > li[data-message-id]").forEach((item) => {
      if (seen.has(item.id)) item.remove();
      else seen.add(item.id);
    });
  }

  // After a send, the new message comes into view. Messages arriving from others (live updates)
  // scroll into view only for someone already at the bottom, not while they read older ones.
  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 200;
  }
  let followLatest = false;
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "message-list") {
      followLatest = event.detail.requestConfig?.verb === "post" || nearBottom();
    }
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail.target;
    initCounters(document);
    if (target && target.id === "message-list") {
      dropDuplicates(target);
      if (followLatest) scrollToLatest();
      followLatest = false;
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    initCounters(document);
    const page = document.querySelector("[data-scroll-to-latest]");
    // A link to one message (#message-12) or to older messages keeps its own position.
    if (page && (!window.location.hash || window.location.hash === "#latest")) scrollToLatest();
  });
})();
