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
  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    if (carriesToast(xhr)) return;
    const serverMessage = xhr.getResponseHeader("X-Pinboard-Error");
    showToast(serverMessage || describeFailure(xhr), "error");
  });
  document.addEventListener("htmx:sendError", () => {
    showToast("Could not reach Pinboard. Check your connection; what you typed is kept.", "error");
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
  // Buttons disable while their htmx request is in flight (no double submits).
  document.addEventListener("htmx:beforeRequest", (event) => {
    event.detail.elt.querySelectorAll?.("button[type=submit]").forEach((b) => (b.disabled = true));
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    event.detail.elt.querySelectorAll?.("button[type=submit]").forEach((b) => (b.disabled = false));
  });
})();
