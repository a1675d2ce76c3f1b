// "@" in the composer suggests the conversation's people (templates/messaging/conversation.html
// renders them as JSON; the textarea's data-mentions names that element). An ARIA combobox: the
// textarea keeps focus, ArrowUp/ArrowDown move through the listbox, Enter or Tab chooses, Escape
// closes. Without JavaScript an @name is plain typing and the server still finds the mention.
(function () {
  "use strict";

  const MAX_OPTIONS = 8;
  // "@" starting a token (not inside a word or an email address), then what a username may
  // hold, up to the caret: the same rule as messaging/mentions.py.
  const TOKEN = /(?:^|[^\w.@+-])@([\w.+-]*)$/;
  const states = new WeakMap();

  function people(field) {
    const source = document.getElementById(field.dataset.mentions);
    if (!source) return [];
    try {
      return JSON.parse(source.textContent);
    } catch {
      return [];
    }
  }

  function setUp(field) {
    let state = states.get(field);
    if (state) return state;
    const id = field.id + "-mentions";
    const list = document.createElement("ul");
    list.id = id;
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "People to mention");
    list.hidden = true;
    const status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    field.form.prepend(list);
    field.form.append(status);
    field.setAttribute("role", "combobox");
    field.setAttribute("aria-multiline", "true");
    field.setAttribute("aria-autocomplete", "list");
    field.setAttribute("aria-controls", id);
    field.setAttribute("aria-expanded", "false");
    // A pointer chooses too; pressing an option must not take the focus from the textarea.
    list.addEventListener("mousedown", (event) => event.preventDefault());
    list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) choose(field, Number(option.dataset.index));
    });
    state = { list, status, matches: [], active: -1, start: -1, dismissedAt: -1 };
    states.set(field, state);
    return state;
  }

  function close(field) {
    const state = states.get(field);
    if (!state || state.list.hidden) return;
    state.list.hidden = true;
    state.matches = [];
    state.active = -1;
    field.setAttribute("aria-expanded", "false");
    field.removeAttribute("aria-activedescendant");
  }

  function highlight(field, index) {
    const state = states.get(field);
    state.active = index;
    state.list.querySelectorAll("[role=option]").forEach((option, n) => {
      option.setAttribute("aria-selected", String(n === index));
    });
    const option = state.list.children[index];
    field.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function update(field) {
    const before = field.value.slice(0, field.selectionStart);
    const token = field.selectionStart === field.selectionEnd ? TOKEN.exec(before) : null;
    if (!token) {
      const state = states.get(field);
      if (state) state.dismissedAt = -1;
      close(field);
      return;
    }
    const state = setUp(field);
    const query = token[1].toLowerCase();
    state.start = before.length - token[1].length - 1; // the "@"
    if (state.dismissedAt === state.start) return; // closed with Escape for this "@"
    const matches = people(field)
      .filter((person) =>
        person.username.toLowerCase().startsWith(query) ||
        person.name.toLowerCase().split(/\s+/).some((word) => word.startsWith(query)))
      .slice(0, MAX_OPTIONS);
    if (!matches.length) {
      close(field);
      state.status.textContent = query ? "No one here matches @" + token[1] : "";
      return;
    }
    state.matches = matches;
    state.list.replaceChildren(...matches.map((person, n) => {
      const option = document.createElement("li");
      option.id = state.list.id + "-" + n;
      option.setAttribute("role", "option");
      option.dataset.index = String(n);
      const name = document.createElement("span");
      name.className = "mention-list__name";
      name.textContent = person.name;
      const handle = document.createElement("span");
      handle.className = "mention-list__username";
      handle.textContent = "@" + person.username;
      option.append(name, " ", handle);
      return option;
    }));
    state.list.hidden = false;
    field.setAttribute("aria-expanded", "true");
    highlight(field, 0);
    state.status.textContent = matches.length === 1
      ? "1 person to mention; Enter chooses"
      : matches.length + " people to mention; arrow keys move, Enter chooses";
  }

  function choose(field, index) {
    const state = states.get(field);
    const person = state.matches[index];
    if (!person) return;
    const caret = field.selectionStart;
    const inserted = "@" + person.username + " ";
    field.setRangeText(inserted, state.start, caret, "end");
    close(field);
    state.status.textContent = person.name + " mentioned";
    field.focus();
    // The character counter and anything else listening see the change.
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // Each composer becomes a combobox as it appears (the page's, and the fresh one after a send).
  function setUpAll(root) {
    if (root.matches?.("textarea[data-mentions]")) setUp(root);
    root.querySelectorAll?.("textarea[data-mentions]").forEach(setUp);
  }
  document.addEventListener("DOMContentLoaded", () => setUpAll(document));
  document.addEventListener("htmx:load", (event) => setUpAll(event.detail.elt));

  document.addEventListener("input", (event) => {
    if (event.target.matches?.("textarea[data-mentions]")) update(event.target);
  });
  // Moving the caret by click or arrow keys to another word closes the list.
  document.addEventListener("click", (event) => {
    if (event.target.matches?.("textarea[data-mentions]")) update(event.target);
  });
  document.addEventListener("keyup", (event) => {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    if (event.target.matches?.("textarea[data-mentions]")) update(event.target);
  });
  document.addEventListener("focusout", (event) => {
    if (event.target.matches?.("textarea[data-mentions]")) close(event.target);
  });

  // Capture phase: while the list is open, Enter chooses instead of sending (conversation.js
  // listens for Enter on the document) and Escape closes only the list.
  document.addEventListener("keydown", (event) => {
    const field = event.target;
    if (!field.matches?.("textarea[data-mentions]")) return;
    const state = states.get(field);
    if (!state || state.list.hidden || event.isComposing) return;
    const count = state.matches.length;
    let handled = true;
    if (event.key === "ArrowDown") highlight(field, (state.active + 1) % count);
    else if (event.key === "ArrowUp") highlight(field, (state.active - 1 + count) % count);
    else if ((event.key === "Enter" && !event.shiftKey) || (event.key === "Tab" && !event.shiftKey)) {
      choose(field, state.active);
    } else if (event.key === "Escape") {
      state.dismissedAt = state.start;
      close(field);
    } else handled = false;
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
})();
