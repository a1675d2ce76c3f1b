// Live updates: one EventSource per tab (DESIGN.md §5). Each event is only a hint ("conversation
// 12 has news"); the page then fetches the HTML it needs with htmx, so everything shown is
// rendered, and access-checked, by the server. Pages work without this script.
(function () {
  "use strict";

  const POLL_MS = 20000;
  const TYPING_MS = 5000;
  const BADGE_DELAY_MS = 150; // gathers a burst of events into one badge fetch
  const RECONNECT_MIN_MS = 1000;
  const RECONNECT_MAX_MS = 15000;
  // The triggering event of every fetch this script makes: app.js treats such requests as
  // background work (no toasts), and this script recognises its own answers.
  const LIVE_EVENT = "pinboard:live";
  const body = document.body;
  const streamUrl = body.dataset.liveUrl;
  if (!streamUrl || !window.htmx) return;

  const streamPath = streamUrl.split("?")[0];
  const badgeUrl = body.dataset.liveBadgeUrl;
  const status = document.getElementById("live-status");
  let source = null;
  let lastEventId = ""; // the newest event seen, for a new stream to start from
  let signedOut = false; // then nothing here makes a request again

  function setReconnecting(on) {
    if (status) status.hidden = !on || signedOut;
  }

  // --- Background fetches -----------------------------------------------------------------
  // One GET whose answer htmx swaps into `target`. The target is the request's source too: without
  // one, htmx would run it as document.body, and every "this form is sending" rule would apply
  // to the whole page while it runs. Resolves to the XMLHttpRequest once the answer is in place.
  function liveGet(url, target, swap) {
    if (signedOut) return Promise.resolve(null);
    const trigger = new CustomEvent(LIVE_EVENT);
    return htmx
      .ajax("GET", url, { source: target, target, swap, event: trigger })
      .then(() => trigger.xhr || null);
  }
  function isLive(detail) {
    return detail.requestConfig?.triggeringEvent?.type === LIVE_EVENT;
  }
  document.addEventListener("htmx:afterRequest", (event) => {
    if (isLive(event.detail)) event.detail.requestConfig.triggeringEvent.xhr = event.detail.xhr;
  });
  // Signed out meanwhile, a fetch is redirected to the sign-in page: that page must not be swapped
  // into the nav badge or the message list.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    if (!isLive(detail) || !detail.xhr.responseURL) return;
    const asked = new URL(detail.requestConfig.path, window.location.href).pathname;
    if (new URL(detail.xhr.responseURL).pathname !== asked) {
      detail.shouldSwap = false;
      checkConnection();
    }
  });

  // At most one run of `work` in flight: calls while it runs ask for exactly one more run after
  // it, however many they are (10,000 events during one fetch cost one more fetch, not 10,000).
  // `work` may return (a promise of) true to ask for another run itself. `delay` gathers a
  // burst before the first run.
  function coalesced(work, delay = 0, whenIdle = null) {
    let state = "idle"; // "scheduled" | "running"
    let again = false;
    function start() {
      state = "running";
      again = false;
      Promise.resolve()
        .then(work)
        .then(
          (more) => {
            if (more === true) again = true;
          },
          () => {}, // lost on the way: the next event, the reconnect or the poll asks again
        )
        .finally(() => {
          state = "idle";
          if (again) run();
          else if (whenIdle) whenIdle();
        });
    }
    function run() {
      if (signedOut || state === "scheduled") return;
      if (state === "running") {
        again = true;
        return;
      }
      state = "scheduled";
      if (delay) setTimeout(start, delay);
      else start();
    }
    return run;
  }

  // The same, one runner per key (an inbox row, a message); a runner is forgotten once idle, so
  // the map only ever holds what is in flight.
  function coalescedPerKey(work) {
    const runners = new Map();
    return function run(key) {
      if (!runners.has(key)) {
        runners.set(key, coalesced(() => work(key), 0, () => runners.delete(key)));
      }
      runners.get(key)();
    };
  }

  // --- Nav badge --------------------------------------------------------------------------
  const refreshBadge = coalesced(() => {
    const badge = document.getElementById("nav-unread");
    if (badgeUrl && badge) return liveGet(badgeUrl, badge, "outerHTML");
  }, BADGE_DELAY_MS);

  // --- The bell's count (an `event: notification`; the count fragment replaces the span inside
  // the bell link, so focus on the bell, or anywhere else, stays where it is) -------------------
  const bellUrl = body.dataset.liveBellUrl;
  const refreshBell = coalesced(() => {
    const count = document.getElementById("nav-bell");
    if (bellUrl && count) return liveGet(bellUrl, count, "outerHTML");
  }, BADGE_DELAY_MS);

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

  // Messages newer than the newest shown, a page at a time: after a long absence the server
  // says more follow (X-Pinboard-More), and the next page is asked for at once.
  const fetchNewMessages = coalesced(() => {
    const conversation = openConversation();
    const list = conversation && document.getElementById("message-list");
    if (!list) return false;
    const url = conversation.dataset.newMessagesUrl + "?after=" + lastMessageId(list);
    return liveGet(url, list, "beforeend").then((xhr) => {
      if (xhr && xhr.status === 200) noteShown();
      return Boolean(xhr) && xhr.getResponseHeader("X-Pinboard-More") === "true";
    });
  });

  // Messages shown while the page is in view have been read: say so once they are in. A live
  // fetch itself marks nothing read (every fetch would otherwise announce "read" back to this
  // very tab); messages that arrived while the tab was hidden count once it is in view again.
  function csrfToken() {
    return JSON.parse(body.getAttribute("hx-headers") || "{}")["x-csrftoken"];
  }
  let unseen = false;
  const markRead = coalesced(() => {
    const url = openConversation()?.dataset.readUrl;
    unseen = false;
    if (!url) return;
    return fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      credentials: "same-origin",
    }).catch(() => {}); // the next message, or the next visit, marks it read
  });
  function noteShown() {
    if (document.visibilityState === "visible") markRead();
    else unseen = true;
  }
  document.addEventListener("visibilitychange", () => {
    if (unseen && document.visibilityState === "visible") markRead();
  });

  const refreshMessage = coalescedPerKey((messageId) => {
    const el = document.querySelector('[data-message-id="' + messageId + '"]');
    const conversation = openConversation();
    if (!el || !conversation) return;
    const url = conversation.dataset.messageUrlTemplate.replace(/\/0\/$/, "/" + messageId + "/");
    return liveGet(url, el, "outerHTML");
  });

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
  const rowsToMove = new Set(); // conversation ids whose next row fetch moves them to the top
  const refreshInboxRow = coalescedPerKey((conversationId) => {
    const moveToTop = rowsToMove.delete(conversationId);
    const inbox = document.querySelector("[data-inbox-row-url-template]");
    if (!inbox) return;
    const url = inbox.dataset.inboxRowUrlTemplate.replace(/\/0\/(row\/)$/, "/" + conversationId + "/$1");
    const row = document.getElementById("conversation-" + conversationId);
    // Never replace a row under someone typing a quick reply: their text would be lost.
    const reply = row && row.querySelector("textarea, input[type=text]");
    if (reply && (reply.value || document.activeElement === reply)) return;
    if (row) {
      return liveGet(url, row, "outerHTML").then(() => {
        const fresh = document.getElementById("conversation-" + conversationId);
        const list = fresh && fresh.parentElement;
        if (moveToTop && list && list.firstElementChild !== fresh) list.prepend(fresh);
      });
    }
    const list = inbox.querySelector("[data-inbox-rows]");
    if (list) return liveGet(url, list, "afterbegin");
    window.location.reload(); // the first conversation of an empty inbox
  });

  // --- The Requests tab's count (inbox and requests pages) ----------------------------------
  const refreshRequestCount = coalesced(() => {
    const count = document.getElementById("requests-count");
    if (count) return liveGet(count.dataset.refreshUrl, count, "outerHTML");
  }, BADGE_DELAY_MS);

  // --- Events -----------------------------------------------------------------------------
  function handle(kind, data) {
    if (kind === "notification") {
      refreshBell();
      return;
    }
    const conversation = openConversation();
    const here = conversation && Number(conversation.dataset.conversationId) === data.conversation;
    if (kind === "typing") {
      if (here) showTyping(data.name);
      return;
    }
    if (here && kind === "message.new") {
      fetchNewMessages();
      // In view, it is read as soon as it is shown: the "conversation.read" that follows
      // refreshes the badge (refreshing it now would flash an unread count for this very page).
      if (document.visibilityState === "visible") return;
    }
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
    if (kind === "message.new") rowsToMove.add(data.conversation);
    refreshInboxRow(data.conversation);
  }

  const KINDS = [
    "message.new",
    "message.edited",
    "message.deleted",
    "conversation.read",
    "conversation.changed",
    "typing",
    "notification",
  ];

  // --- The stream, and what to do when it closes ---------------------------------------------
  let attempts = 0; // failed reconnects in a row, for the backoff
  let retryTimer = null;

  function connect() {
    retryTimer = null;
    if (!window.EventSource || signedOut) return;
    // A new stream starts after the newest event this tab has seen; before any, from the
    // page's render time (base.html's ?rendered=).
    const url = lastEventId ? streamPath + "?since=" + encodeURIComponent(lastEventId) : streamUrl;
    const stream = new EventSource(url);
    source = stream;
    stream.addEventListener("open", () => {
      attempts = 0;
      setReconnecting(false);
      // Whatever happened while we were away: the stream replays events from Last-Event-ID,
      // and the page also asks for anything newer than what it shows.
      fetchNewMessages();
      refreshBadge();
      refreshBell();
    });
    stream.addEventListener("error", () => {
      // While CONNECTING, EventSource retries by itself (sending Last-Event-ID). CLOSED is either
      // the server's 204 (signed out, or a server that cannot stream) or a network failure
      // Chrome gave up on: find out which.
      if (stream.readyState === EventSource.CLOSED) {
        if (source === stream) source = null;
        checkConnection();
      } else {
        setReconnecting(true);
      }
    });
    KINDS.forEach((kind) => {
      stream.addEventListener(kind, (event) => {
        if (event.lastEventId) lastEventId = event.lastEventId;
        handle(kind, JSON.parse(event.data));
      });
    });
  }

  // Why did the stream close? Asked of cheap URLs, with redirects not followed:
  //   the badge redirects to sign-in -> signed out: say so and stop;
  //   the badge answers but the stream says 204 -> this server cannot stream: poll;
  //   the stream answers -> it is back: reconnect now;
  //   anything else (no answer, a server error) -> reconnect later, with backoff.
  async function diagnose() {
    const options = { credentials: "same-origin", redirect: "manual", cache: "no-store" };
    try {
      const badge = await fetch(badgeUrl, options);
      if (badge.type === "opaqueredirect" || badge.status === 401 || badge.status === 403) {
        return "signed-out";
      }
      if (!badge.ok) return "retry";
      const controller = new AbortController();
      const stream = await fetch(streamPath, { ...options, signal: controller.signal });
      controller.abort(); // only its status mattered
      if (stream.status === 204) return "no-stream";
      return stream.ok ? "back" : "retry";
    } catch (error) {
      return "retry"; // the network is down, or the server is
    }
  }

  const checkConnection = coalesced(async () => {
    const why = await diagnose();
    if (why === "signed-out") return signOut();
    if (why === "no-stream") return setReconnecting(false);
    if (source || retryTimer) return; // already on its way back
    if (why === "back") return connect();
    setReconnecting(true);
    // Exponential, with jitter: a server back from a restart is not hit by every tab at once.
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempts);
    attempts += 1;
    retryTimer = setTimeout(connect, delay * (0.5 + Math.random() / 2));
  });

  // The network is back: no need to wait out the backoff.
  window.addEventListener("online", () => {
    if (!retryTimer) return;
    clearTimeout(retryTimer);
    connect();
  });

  function signOut() {
    signedOut = true;
    clearInterval(pollTimer);
    clearTimeout(retryTimer);
    if (source) source.close();
    source = null;
    setReconnecting(false);
    const notice = document.getElementById("live-signed-out");
    if (notice) notice.hidden = false;
  }

  // When the stream is unavailable, an open conversation still checks for news now and then.
  const pollTimer = setInterval(() => {
    if (!source || source.readyState !== EventSource.OPEN) {
      fetchNewMessages();
      refreshBadge();
    }
  }, POLL_MS);

  // Typing notices: at most one every few seconds while the person types in the composer.
  let lastTypingSent = 0;
  document.addEventListener("input", (event) => {
    const conversation = openConversation();
    if (signedOut || !conversation || !event.target.matches("#composer textarea")) return;
    const now = Date.now();
    if (now - lastTypingSent < 3000) return;
    lastTypingSent = now;
    fetch(conversation.dataset.typingUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    }).catch(() => {}); // a lost typing notice is harmless
  });

  connect();
})();
