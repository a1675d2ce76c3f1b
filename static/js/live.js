// Live updates: one EventSource per tab (DESIGN.md §5). Each event is only a hint ("conversation
// 12 has news"); the page then fetches the HTML it needs with htmx, so everything shown is
// rendered, and access-checked, by the server. Pages work without this script.
(function () {
  "use strict";

  const POLL_MS = 20000;
  const TYPING_MS = 5000;
  const body = document.body;
  const streamUrl = body.dataset.liveUrl;
  if (!streamUrl || !window.htmx) return;

  const badgeUrl = body.dataset.liveBadgeUrl;
  const status = document.getElementById("live-status");
  let source = null;

  function setReconnecting(on) {
    if (status) status.hidden = !on;
  }

  // --- Background fetches -----------------------------------------------------------------
  // The triggering event of every fetch this script makes: app.js treats such requests as
  // background work (no toasts).
  const LIVE_EVENT = "pinboard:live";
  // One GET whose answer htmx swaps into `target`. The target is the request's source too: without
  // one, htmx would run it as document.body, and every "this form is sending" rule would apply
  // to the whole page while it runs (and every background fetch would queue behind the others).
  function liveGet(url, target, swap) {
    return htmx.ajax("GET", url, { source: target, target, swap, event: new CustomEvent(LIVE_EVENT) });
  }

  // --- Nav badge --------------------------------------------------------------------------
  let badgeTimer = null;
  function refreshBadge() {
    if (!badgeUrl || !document.getElementById("nav-unread")) return;
    clearTimeout(badgeTimer);
    badgeTimer = setTimeout(() => {
      const badge = document.getElementById("nav-unread");
      if (badge) liveGet(badgeUrl, badge, "outerHTML");
    }, 150);
  }

  // --- An open conversation ---------------------------------------------------------------
  function openConversation() {
    return document.querySelector("[data-conversation-id]");
  }

  function lastMessageId(list) {
    let last = 0;
    list.querySelectorAll("[data-message-id]").forEach((el) => {
      last = Math.max(last, Number(el.dataset.messageId));
    });
    return last;
  }

  let fetching = null;
  function fetchNewMessages() {
    const conversation = openConversation();
    const list = conversation && document.getElementById("message-list");
    if (!list) return;
    if (fetching) return fetching.then(fetchNewMessages);
    const url = conversation.dataset.newMessagesUrl + "?after=" + lastMessageId(list);
    fetching = liveGet(url, list, "beforeend")
      .finally(() => {
        fetching = null;
        removeDuplicates(list);
        list.dispatchEvent(new CustomEvent("pinboard:messages-added", { bubbles: true }));
      });
    return fetching;
  }

  // Two fetches racing (an event and the composer's own append) must never show a message
  // twice: keep the first element for each id.
  function removeDuplicates(list) {
    const seen = new Set();
    list.querySelectorAll("[data-message-id]").forEach((el) => {
      if (seen.has(el.dataset.messageId)) el.remove();
      else seen.add(el.dataset.messageId);
    });
  }

  function refreshMessage(messageId) {
    const el = document.querySelector('[data-message-id="' + messageId + '"]');
    const conversation = openConversation();
    if (!el || !conversation) return;
    const url = conversation.dataset.messageUrlTemplate.replace(/\/0\/$/, "/" + messageId + "/");
    liveGet(url, el, "outerHTML");
  }

  let typingTimer = null;
  function showTyping(name) {
    const indicator = document.getElementById("typing-indicator");
    if (!indicator) return;
    indicator.textContent = name + " is typing…";
    indicator.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      indicator.hidden = true;
      indicator.textContent = "";
    }, TYPING_MS);
  }

  // --- The inbox -------------------------------------------------------------------------
  function refreshInboxRow(conversationId, moveToTop) {
    const inbox = document.querySelector("[data-inbox-row-url-template]");
    if (!inbox) return;
    const url = inbox.dataset.inboxRowUrlTemplate.replace(/\/0\/(row\/)$/, "/" + conversationId + "/$1");
    const row = document.getElementById("conversation-" + conversationId);
    // Never replace a row under someone typing a quick reply: their text would be lost.
    const reply = row && row.querySelector("textarea, input[type=text]");
    if (reply && (reply.value || document.activeElement === reply)) return;
    if (row) {
      liveGet(url, row, "outerHTML").then(() => {
        const fresh = document.getElementById("conversation-" + conversationId);
        const list = fresh && fresh.parentElement;
        if (moveToTop && list && list.firstElementChild !== fresh) list.prepend(fresh);
      });
    } else {
      const list = inbox.querySelector("[data-inbox-rows]");
      if (list) liveGet(url, list, "afterbegin");
      else window.location.reload(); // the first conversation of an empty inbox
    }
  }

  // --- Events -----------------------------------------------------------------------------
  function handle(kind, data) {
    const conversation = openConversation();
    const here = conversation && Number(conversation.dataset.conversationId) === data.conversation;
    if (kind === "typing") {
      if (here) showTyping(data.name);
      return;
    }
    if (here && kind === "message.new") fetchNewMessages();
    if (here && (kind === "message.edited" || kind === "message.deleted")) refreshMessage(data.message);
    // A request declined in another tab: it is gone for this person (its row would be a 404),
    // so only the counts change.
    if (data.declined) {
      refreshRequestCount();
      refreshBadge();
      return;
    }
    // A message request is not in the inbox list nor the nav badge: only the Requests count
    // (which an accepted request, a "conversation.changed", also lowers).
    if (kind === "conversation.changed") refreshRequestCount();
    if (data.request) {
      refreshRequestCount();
      return;
    }
    refreshBadge();
    refreshInboxRow(data.conversation, kind === "message.new");
  }

  // --- The Requests tab's count (inbox and requests pages) ----------------------------------
  let requestsTimer = null;
  function refreshRequestCount() {
    const count = document.getElementById("requests-count");
    if (!count) return;
    clearTimeout(requestsTimer);
    requestsTimer = setTimeout(() => {
      liveGet(count.dataset.refreshUrl, count, "outerHTML");
    }, 150);
  }

  const KINDS = [
    "message.new",
    "message.edited",
    "message.deleted",
    "conversation.read",
    "conversation.changed",
    "typing",
  ];

  function connect() {
    if (!window.EventSource) return;
    source = new EventSource(streamUrl);
    source.addEventListener("open", () => {
      setReconnecting(false);
      // Whatever happened while we were away: the stream replays events from Last-Event-ID,
      // and the page also asks for anything newer than what it shows.
      fetchNewMessages();
      refreshBadge();
    });
    source.addEventListener("error", () => {
      // EventSource reconnects by itself (sending Last-Event-ID); a closed source means the
      // server told us to stop (signed out).
      setReconnecting(source.readyState === EventSource.CONNECTING);
    });
    KINDS.forEach((kind) => {
      source.addEventListener(kind, (event) => handle(kind, JSON.parse(event.data)));
    });
  }

  // When the stream is unavailable, an open conversation still checks for news now and then.
  setInterval(() => {
    if (!source || source.readyState !== EventSource.OPEN) {
      fetchNewMessages();
      refreshBadge();
    }
  }, POLL_MS);

  // Typing notices: at most one every few seconds while the person types in the composer.
  let lastTypingSent = 0;
  document.addEventListener("input", (event) => {
    const conversation = openConversation();
    if (!conversation || !event.target.matches("#composer textarea")) return;
    const now = Date.now();
    if (now - lastTypingSent < 3000) return;
    lastTypingSent = now;
    const csrf = JSON.parse(body.getAttribute("hx-headers") || "{}")["x-csrftoken"];
    fetch(conversation.dataset.typingUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf },
      credentials: "same-origin",
    }).catch(() => {}); // a lost typing notice is harmless
  });

  connect();
})();
