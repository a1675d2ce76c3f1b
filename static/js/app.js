// Pinboard's small, progressive-enhancement JavaScript. Pages work without it.
(function () {
  "use strict";

  const TOAST_LIFETIME_MS = 6000;

  function dismissLater(toast) {
    window.setTimeout(() => toast.remove(), TOAST_LIFETIME_MS);
  }

  // Shows a message in the toast area (role=status, so screen readers announce it), with an
  // optional link after it (url, linkText).
  function showToast(message, level, url, linkText) {
    const area = document.getElementById("toasts");
    if (!area) return;
    const toast = document.createElement("div");
    toast.className = "toast toast--" + (level || "info");
    const text = document.createElement("p");
    text.textContent = message;
    if (url) {
      const link = document.createElement("a");
      link.href = url;
      link.textContent = linkText || url;
      text.append(" ", link);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast__close";
    close.setAttribute("aria-label", "Dismiss");
    close.setAttribute("data-dismiss-toast", "");
    close.textContent = "\u00d7";
    toast.append(text, close);
    area.append(toast);
    if (level !== "error") dismissLater(toast);
  }
  window.pinboardToast = showToast;

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-dismiss-toast]");
    if (button) button.closest(".toast").remove();
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".toast:not(.toast--error)").forEach(dismissLater);
  });

  // Server-sent toasts: views answer htmx requests with HX-Trigger {"toast": {...}}.
  document.addEventListener("toast", (event) => {
    showToast(event.detail.message, event.detail.level, event.detail.url, event.detail.linkText);
  });

  // A failed htmx request must never fail silently. htmx does not swap on errors, so whatever
  // the person typed stays in the form.
  function describeFailure(xhr) {
    const status = xhr.status;
    // Only a refused CSRF token means the session changed (pinboard.middleware.csrf_failure
    // marks its 403s); any other 403 is a plain "not allowed".
    if (status === 403 && xhr.getResponseHeader("X-Pinboard-CSRF-Failure")) {
      return "Your session changed \u2014 reload the page to continue. What you typed is kept.";
    }
    if (status === 403) return "You are not allowed to do that.";
    if (status === 404) return "That is no longer available.";
    if (status === 413) return "That upload is too large.";
    if (status === 429) return "You are doing that too often. Wait a moment and try again.";
    if (status >= 500) return "Something went wrong. What you typed is kept; try again.";
    return "That did not work (error " + status + "). What you typed is kept; try again.";
  }
  // True when the response carries its own toast (HX-Trigger: {"toast": ...}, e.g. a 429 with
  // the server's message): htmx fires that event even for errors, so don't add a second one.
  function carriesToast(xhr) {
    const trigger = xhr.getResponseHeader("HX-Trigger");
    if (!trigger) return false;
    try {
      return Object.prototype.hasOwnProperty.call(JSON.parse(trigger), "toast");
    } catch (error) {
      return trigger.split(",").some((name) => name.trim() === "toast");
    }
  }
  // The live layer's own fetches (live.js marks them with this triggering event) are background
  // work: when they fail, live.js retries and shows the connection's state, and a toast about
  // something the person never did would only alarm them.
  function isBackground(detail) {
    return detail.requestConfig?.triggeringEvent?.type === "pinboard:live";
  }
  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    if (isBackground(event.detail) || carriesToast(xhr)) return;
    const serverMessage = xhr.getResponseHeader("X-Pinboard-Error");
    showToast(serverMessage || describeFailure(xhr), "error");
  });
  document.addEventListener("htmx:sendError", (event) => {
    if (isBackground(event.detail)) return;
    showToast("Could not reach Pinboard. Check your connection; what you typed is kept.", "error");
  });
  // htmx-config (base.html) gives every request a time limit, so a request lost on the way
  // ends in this message instead of a button that never comes back.
  document.addEventListener("htmx:timeout", (event) => {
    if (isBackground(event.detail)) return;
    showToast("Pinboard took too long to answer. What you typed is kept; try again.", "error");
  });

  // Close open <details> menus with Escape or a click elsewhere (they work without this, too).
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", (event) => {
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
})();

// Dialogs: fragments that arrive as <dialog data-modal> open as modal dialogs (focus moves into
// them, Escape closes them); without JavaScript the same content is a plain page.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", (event) => {
    const dialog = event.detail.target.querySelector("dialog[data-modal]");
    if (dialog && !dialog.open) {
      dialog.addEventListener("close", () => dialog.remove());
      dialog.showModal();
    }
  });
  document.addEventListener("click", (event) => {
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (!dialog) return; // on the plain page the link/button does its normal job
      event.preventDefault();
      dialog.close();
    }
  });
  // While a form's htmx request is in flight its own submit buttons are disabled (no double
  // submits) and the form is aria-busy. Only that form's: other requests (a live update, a search
  // as you type) never disable a button, and each request re-enables exactly what it disabled.
  const disabledBy = new WeakMap(); // the request's element -> the buttons it disabled
  function ownSubmitButtons(elt) {
    if (elt instanceof HTMLButtonElement) return [elt]; // a button with its own hx-post
    if (!(elt instanceof HTMLFormElement)) return [];
    return Array.from(elt.elements).filter(
      (control) =>
        (control instanceof HTMLButtonElement || control instanceof HTMLInputElement) &&
        control.type === "submit",
    );
  }
  // beforeSend, not beforeRequest: it fires only for a request really sent, so afterRequest
  // always follows it.
  document.addEventListener("htmx:beforeSend", (event) => {
    const elt = event.detail.elt;
    const buttons = ownSubmitButtons(elt).filter((button) => !button.disabled);
    if (!buttons.length) return;
    buttons.forEach((button) => (button.disabled = true));
    disabledBy.set(elt, buttons);
    if (elt instanceof HTMLFormElement) elt.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const elt = event.detail.elt;
    const buttons = disabledBy.get(elt);
    if (!buttons) return; // not ours, or already restored (htmx may fire this twice)
    disabledBy.delete(elt);
    buttons.forEach((button) => (button.disabled = false));
    if (elt instanceof HTMLFormElement) elt.removeAttribute("aria-busy");
  });
})();
