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
  let olderHadFocus = false;
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (target && target.id === "message-list") {
      followLatest = event.detail.requestConfig?.verb === "post" || nearBottom();
    }
    if (target && target.matches?.("li.message-list__older")) {
      olderHadFocus = target.contains(document.activeElement);
    }
  });

  // "Load older messages" replaces itself with the older messages: keep focus there (on the
  // next "Load older" link, or the oldest message), not back at the start of the page.
  function focusAfterOlder(list) {
    const next = list.querySelector(":scope > li.message-list__older a");
    const oldest = list.querySelector(":scope > li[data-message-id]");
    const target = next || oldest;
    if (!target) return;
    if (target === oldest) target.setAttribute("tabindex", "-1");
    target.focus();
  }

  // A tab left open on a busy conversation must not grow without end: past the list's
  // data-max-messages, a reader at the bottom loses the oldest messages, and "Load older
  // messages" brings them back from the server. A message someone is working in (focus inside
  // it, a reply or an edit being typed) is kept, with everything after it.
  function inUse(item) {
    if (item.contains(document.activeElement)) return true;
    return Array.from(item.querySelectorAll("textarea, input[type=text]")).some(
      (field) => field.value !== field.defaultValue,
    );
  }

  function keepTheNewest(list) {
    const limit = Number(list.dataset.maxMessages);
    const items = list.querySelectorAll(":scope > li[data-message-id]");
    let extra = items.length - limit;
    if (!limit || extra <= 0) return;
    let removed = 0;
    for (const item of items) {
      if (extra <= 0 || inUse(item)) {
        if (removed) offerOlder(list, item.dataset.messageId);
        return;
      }
      item.remove();
      extra -= 1;
      removed += 1;
    }
  }

  // The "Load older messages" link at the top of the list, pointing just before `messageId`
  // (the same link, and the same ?before= fragment, as the server renders).
  function offerOlder(list, messageId) {
    const conversation = list.closest("[data-new-messages-url]");
    if (!conversation || !window.htmx) return;
    const url = conversation.dataset.newMessagesUrl + "?before=" + messageId;
    const item = document.createElement("li");
    item.className = "message-list__older";
    const link = document.createElement("a");
    link.className = "btn btn--small";
    link.href = url;
    link.setAttribute("hx-get", url);
    link.setAttribute("hx-target", "closest li");
    link.setAttribute("hx-swap", "outerHTML");
    link.textContent = "Load older messages";
    item.append(link);
    const old = list.querySelector(":scope > li.message-list__older");
    const hadFocus = old && old.contains(document.activeElement);
    if (old) old.replaceWith(item);
    else list.prepend(item);
    window.htmx.process(item);
    if (hadFocus) link.focus();
  }

  document.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail.target;
    initCounters(document);
    if (olderHadFocus) {
      olderHadFocus = false;
      const list = document.getElementById("message-list");
      if (list) focusAfterOlder(list);
    }
    if (target && target.id === "message-list") {
      dropDuplicates(target);
      if (followLatest) {
        keepTheNewest(target);
        scrollToLatest();
      }
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
