/* The installable app and Web Push in the page: registers the service worker (/sw.js, for the
 * offline page and push), turns notifications on for this browser from the settings' button, and
 * on a conversation page offers once, gently, to turn them on. Push is offered only when the
 * site has a VAPID key (base.html's <meta name="push-public-key">, present only then). */
(function () {
  "use strict";

  const DISMISSED_KEY = "pinboard.pushPromptDismissed";
  const swMeta = document.querySelector('meta[name="service-worker"]');
  const keyMeta = document.querySelector('meta[name="push-public-key"]');
  const swSupported = "serviceWorker" in navigator && swMeta;
  const pushSupported = swSupported && keyMeta && keyMeta.content && "PushManager" in window && "Notification" in window;

  if (swSupported) {
    navigator.serviceWorker.register(swMeta.content, { scope: "/" }).catch(() => {});
  }
  if (!pushSupported) return;

  function applicationServerKey() {
    const text = keyMeta.content.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(text + "=".repeat((4 - (text.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function csrfToken() {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"];
  }

  async function currentSubscription() {
    const registration = await navigator.serviceWorker.ready;
    return registration.pushManager.getSubscription();
  }

  // Asks for permission, subscribes with the push service, and registers the subscription with
  // us. Resolves to a sentence for the person; rejects with one when something is in the way.
  async function turnOn(subscribeUrl) {
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      throw new Error("Notifications are blocked for this site in your browser’s settings.");
    }
    const registration = await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    if (!subscription) {
      try {
        subscription = await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: applicationServerKey(),
        });
      } catch (error) {
        throw new Error("This browser couldn’t reach its push service. Try again later.");
      }
    }
    const response = await fetch(subscribeUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(subscription.toJSON()),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(text || "Notifications couldn’t be turned on. Try again.");
    return text;
  }

  // --- Settings: the device list and its button ---------------------------------------------

  async function setUpSettings(button) {
    const status = document.querySelector("[data-push-status]");
    const say = (text) => { if (status) status.textContent = text; };
    if (Notification.permission === "denied") {
      say("Notifications are blocked for this site in your browser’s settings.");
      return;
    }
    const subscription = await currentSubscription().catch(() => null);
    const mine = subscription && document.querySelector(
      '[data-push-endpoint="' + CSS.escape(subscription.endpoint) + '"]'
    );
    if (mine) {
      mine.querySelector("[data-this-device]").hidden = false;
      say("Notifications are on in this browser.");
      return;
    }
    button.hidden = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      say("Turning notifications on…");
      try {
        await turnOn(button.dataset.subscribeUrl);
        window.location.reload();  // the list shows this device, and a toast says so
      } catch (error) {
        say(error.message);
        button.disabled = false;
        button.focus();
      }
    });
  }

  // --- A conversation: the gentle prompt ------------------------------------------------------

  async function offerOnConversation(conversation) {
    if (Notification.permission !== "default") return;
    if (window.localStorage.getItem(DISMISSED_KEY)) return;
    // Only once someone has written to the person: that is when being told starts to matter.
    if (!conversation.querySelector(".message:not(.message--own)")) return;
    if (await currentSubscription().catch(() => null)) return;
    const subscribeUrl = keyMeta.dataset.subscribeUrl;

    const prompt = document.createElement("div");
    prompt.className = "notice push-prompt";
    prompt.setAttribute("role", "region");
    prompt.setAttribute("aria-label", "Notifications");
    const text = document.createElement("p");
    text.textContent = "Get notified of new messages on this device, even with Pinboard closed?";
    const actions = document.createElement("div");
    actions.className = "form-actions";
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "btn btn--primary btn--small";
    yes.textContent = "Turn on notifications";
    const no = document.createElement("button");
    no.type = "button";
    no.className = "btn btn--small";
    no.textContent = "Not now";
    actions.append(yes, no);
    prompt.append(text, actions);
    const header = conversation.querySelector(".conversation__header");
    (header || conversation.firstElementChild).after(prompt);

    function close(message) {
      prompt.remove();
      if (message && window.pinboardToast) window.pinboardToast(message);
      const composer = document.querySelector("#composer textarea");
      if (composer) composer.focus();
    }
    no.addEventListener("click", () => {
      window.localStorage.setItem(DISMISSED_KEY, "1");
      close();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        close(await turnOn(subscribeUrl));
      } catch (error) {
        text.textContent = error.message;
        yes.disabled = false;
        yes.focus();
      }
    });
  }

  function start() {
    const button = document.querySelector("[data-push-subscribe]");
    if (button) setUpSettings(button);
    const conversation = document.querySelector(".conversation[data-conversation-id]");
    if (conversation && keyMeta.dataset.subscribeUrl) offerOnConversation(conversation);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
