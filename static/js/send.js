// The Send dialog's enhancements (templates/messaging/send.html). The dialog works without them:
// the people search is then a button that reloads it, and the note states its limit instead of
// counting.
(function () {
  "use strict";

  // A live count of the note's characters against its limit (the textarea's maxlength).
  function showCount(field) {
    const counter = document.getElementById(field.getAttribute("aria-describedby"));
    if (!counter || field.maxLength <= 0) return;
    const used = field.value.length;
    counter.textContent = used.toLocaleString() + " / " + field.maxLength.toLocaleString() + " characters";
    counter.classList.toggle("send__count--near", used >= field.maxLength * 0.9);
  }
  function showCounts(root) {
    root.querySelectorAll?.("textarea[data-send-count]").forEach(showCount);
  }
  document.addEventListener("input", (event) => {
    if (event.target.matches?.("textarea[data-send-count]")) showCount(event.target);
  });
  document.addEventListener("DOMContentLoaded", () => showCounts(document));
  document.addEventListener("htmx:load", (event) => showCounts(event.detail.elt));

  // Without JavaScript, "Search" (and Enter) submit the send form to re-render it with results.
  // With htmx the search runs as you type, so those run it in place instead: caught before
  // htmx's own submit handler on the form sees them.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!window.htmx || !form.matches?.("form[data-send-form]")) return;
    if (event.submitter?.name !== "search") return;
    event.preventDefault();
    event.stopPropagation();
    const input = form.querySelector("input[type=search][hx-get]");
    if (input) window.htmx.trigger(input, "send-search");
  }, true);

  // Sent: the dialog closes and the toast says where it went (views/send.py triggers this).
  document.addEventListener("closeSendDialog", () => {
    document.querySelectorAll("dialog[data-send-dialog][open]").forEach((dialog) => dialog.close());
  });
})();
