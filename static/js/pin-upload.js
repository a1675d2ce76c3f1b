// The pin editor's upload enhancements (templates/pinboard/pin_create.html). The form works
// without this file; with it, the chosen image shows at once, a file can be dropped onto the drop
// zone, and the upload shows its progress. Listeners are delegated to the document, so they keep
// working after htmx swaps the form in place.
(function () {
  "use strict";

  const FORM = "[data-pin-upload]";

  // Preview: an object URL of the chosen file (the CSP allows blob: images).
  function showPreview(input) {
    const zone = input.closest("[data-drop-zone]");
    const preview = zone && zone.querySelector("[data-image-preview]");
    if (!preview) return;
    if (preview.src.startsWith("blob:")) URL.revokeObjectURL(preview.src);
    const file = input.files && input.files[0];
    if (!file || !file.type.startsWith("image/")) {
      preview.removeAttribute("src");
      preview.hidden = true;
      return;
    }
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
  }

  // A file chosen before this script ran (a slow connection, or the browser restoring the form on
  // Back) gets its preview too: deferred scripts run only once the page has been parsed.
  document.querySelectorAll(FORM + " [data-image-input]").forEach((input) => {
    if (input.files && input.files.length) showPreview(input);
  });

  // A file the browser cannot show (damaged, or not an image at all) gets no preview; the server
  // explains what is wrong with it.
  document.addEventListener(
    "error",
    (event) => {
      if (event.target.matches?.("[data-image-preview]")) event.target.hidden = true;
    },
    true,
  );

  document.addEventListener("change", (event) => {
    const control = event.target;
    const form = control.closest?.(FORM);
    if (!form) return;
    if (control.matches("[data-image-input]")) {
      control.removeAttribute("aria-invalid"); // a new file: the old error no longer applies
      showPreview(control);
    } else if (control.name === "board" && control.value) {
      const newName = form.querySelector("input[name=new_board_name]");
      if (newName) newName.value = "";
    }
  });

  // Naming a new board clears the chosen one, so the two never conflict.
  document.addEventListener("input", (event) => {
    const control = event.target;
    if (control.name !== "new_board_name" || !control.value.trim()) return;
    const board = control.closest?.(FORM)?.querySelector("select[name=board]");
    if (board) board.value = "";
  });

  // Drag and drop onto the drop zone. (Dropping onto the file input itself works without this.)
  function carriesFiles(event) {
    return Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types).includes("Files");
  }
  function zoneOf(event) {
    return event.target.closest?.("[data-drop-zone]") || null;
  }
  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (event) => {
      if (!carriesFiles(event) || !document.querySelector(FORM)) return;
      // Anywhere on this page: a file dropped beside the zone must not make the browser leave the
      // page (and lose what was typed) to show the file.
      event.preventDefault();
      const zone = zoneOf(event);
      event.dataTransfer.dropEffect = zone ? "copy" : "none";
      if (zone) zone.classList.add("drop-zone--active");
    });
  }
  document.addEventListener("dragleave", (event) => {
    const zone = zoneOf(event);
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("drop-zone--active");
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event) || !document.querySelector(FORM)) return;
    event.preventDefault();
    const zone = zoneOf(event);
    if (!zone) return;
    zone.classList.remove("drop-zone--active");
    const input = zone.querySelector("[data-image-input]");
    const file = event.dataTransfer.files[0];
    if (!input || !file) return;
    const chosen = new DataTransfer(); // one file, even if several were dropped
    chosen.items.add(file);
    input.files = chosen.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.focus();
  });

  // Upload progress, from htmx's XMLHttpRequest events.
  function progressOf(form) {
    const box = form.querySelector("[data-upload-progress]");
    return box ? { box, bar: box.querySelector("progress") } : null;
  }
  document.addEventListener("htmx:beforeSend", (event) => {
    const form = event.detail.elt;
    if (!form.matches?.(FORM)) return;
    const progress = progressOf(form);
    const input = form.querySelector("[data-image-input]");
    if (!progress || !input || !input.files.length) return;
    progress.bar.removeAttribute("value"); // indeterminate until the first progress event
    progress.box.hidden = false;
  });
  document.addEventListener("htmx:xhr:progress", (event) => {
    const form = event.target.closest?.(FORM);
    const progress = form && progressOf(form);
    const { lengthComputable, loaded, total } = event.detail;
    if (!progress || progress.box.hidden || !lengthComputable || !total) return;
    // Upload and response both report progress: only ever move forward.
    progress.bar.value = Math.max(progress.bar.value, Math.round((100 * loaded) / total));
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (!form.matches?.(FORM) || event.detail.successful) return;
    const progress = progressOf(form);
    if (progress) progress.box.hidden = true; // the error toast (app.js) says what happened
  });

  // After the form comes back with errors: the preserved file input keeps its old attributes, so
  // mark it from the server's answer, then move focus to the first field to fix.
  document.addEventListener("htmx:afterSettle", (event) => {
    const form = event.detail.elt.matches?.(FORM) ? event.detail.elt : null;
    if (!form) return;
    const field = form.querySelector("[data-image-field]");
    const input = field && field.querySelector("[data-image-input]");
    if (input) {
      if (field.hasAttribute("data-invalid")) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    form.querySelector("[aria-invalid=true]")?.focus();
  });
})();
