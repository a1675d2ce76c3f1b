// The bell in the nav (templates/includes/site_header.html). Without this script it is a link to
// /notifications/; with it, activating the bell opens a panel with the latest few (fetched with
// htmx, which also marks them read and refreshes the count). Escape or a click elsewhere closes
// it, and focus goes back to the bell.
(function () {
  "use strict";
  if (!window.htmx) return;

  function parts() {
    const toggle = document.getElementById("bell-toggle");
    const panel = document.getElementById("bell-panel");
    return toggle && panel ? { toggle, panel } : null;
  }

  function close(returnFocus) {
    const bell = parts();
    if (!bell || bell.toggle.getAttribute("aria-expanded") !== "true") return;
    bell.toggle.setAttribute("aria-expanded", "false");
    bell.panel.hidden = true;
    if (returnFocus) bell.toggle.focus();
  }

  function open(bell) {
    bell.toggle.setAttribute("aria-expanded", "true");
    bell.panel.hidden = false;
    bell.panel.setAttribute("aria-busy", "true");
    htmx
      .ajax("GET", bell.toggle.dataset.bellUrl, { source: bell.panel, target: bell.panel, swap: "innerHTML" })
      .finally(() => bell.panel.removeAttribute("aria-busy"));
  }

  document.addEventListener("click", (event) => {
    const bell = parts();
    if (!bell) return;
    if (event.target.closest("#bell-toggle")) {
      event.preventDefault();
      if (bell.toggle.getAttribute("aria-expanded") === "true") close(false);
      else open(bell);
    } else if (!event.target.closest("#bell-panel")) {
      close(false);
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const bell = parts();
    if (bell && (bell.panel.contains(document.activeElement) || document.activeElement === bell.toggle)) {
      close(true);
    }
  });
})();
