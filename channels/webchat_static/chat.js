/* Lakeside Bank web chat. Talks to channels/webchat.py (WebChatInput) over socket.io.
 *
 * Events: we emit `session_request` {session_id, session_token, history} and `user_uttered`
 * {message, payload?, client_id, session_id, session_token, metadata: {timezone}}; we receive
 * `session_token` {session_id, session_token} (a fresh session the server issued to this browser),
 * `session_confirm` (the session id), `history` {messages}, `bot_uttered` {text, quick_replies?,
 * agent?, agent_status?}, `message_masked` {client_id, text} and `bot_turn_done`. The server reuses
 * a stored session only with the token it issued with it (a reload); otherwise it starts a new one.
 *
 * An agent's message carries `agent`; the assistant's next message (the hand-back greeting) means
 * the agent left, unless it is marked `during_handoff` (the channel's own answer while paused).
 *
 * Safety: every piece of text goes into the page through textContent or createTextNode; links are
 * built as <a> elements from URLs that parse as http(s), and tel: links only from the digits of
 * a phone number pattern (988, 911, US numbers). Nothing is ever assigned to innerHTML.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "evenkeel.webchat.session";
  var TOKEN_KEY = "evenkeel.webchat.token";
  var BUSY_TIMEOUT_MS = 45000;
  var URL_PATTERN = /https?:\/\/[^\s<>"'`]+/g;
  var TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;
  var PAYMENT_PATH = /\/pay\/[A-Za-z0-9_\-.~]+\/?$/;
  var REFERENCE = /\b[A-Z]{2,5}-[A-Z0-9]{4,12}\b/g; // confirmation numbers: PLN-7K3Q9X
  // Numbers to call, for tap-to-call: 988 (Suicide & Crisis Lifeline), 911, and US numbers
  // (1-800-555-0199, (512) 555-0101, +1 512 555 0101). Group 1 is the character before, since
  // older Safari has no lookbehind; no match inside an amount ($988.00), a longer digit run or a
  // reference. The browser's own parser never sees the text: the link is built from the digits.
  var PHONE = /(^|[^\w$.,+\/-])((?:\+?1[-. ])?(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}|988|911)(?![\w\/]|[.,-]\w)/g;
  var BANK = "Lakeside Bank";

  var app = document.querySelector(".app");
  var transcript = document.getElementById("transcript");
  var welcome = document.getElementById("welcome");
  var typing = document.getElementById("typing");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var sendButton = document.getElementById("send");
  var endChat = document.getElementById("end-chat");
  var connection = document.getElementById("connection");
  var brandSub = document.querySelector(".brand-sub");

  // Storage refused (private modes; an embedded chat where the browser blocks third-party
  // storage): the session lives in memory, for this page view. Declared before `state` reads it.
  var memoryStore = {};

  var state = {
    sessionId: readStored(STORAGE_KEY),
    sessionToken: readStored(TOKEN_KEY),
    ready: false,
    busy: false,
    busyTimer: null,
    agentsPresent: {},
    nextClientId: 1,
  };

  // --- storage (the session survives a reload; private modes may refuse storage) --------------
  function readStored(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return memoryStore[key] || null; }
  }
  function store(key, value) {
    memoryStore[key] = value;
    try {
      if (value) { window.localStorage.setItem(key, value); } else { window.localStorage.removeItem(key); }
    } catch (e) { /* memory only */ }
  }
  function storeSession(id, token) {
    store(STORAGE_KEY, id);
    store(TOKEN_KEY, token);
  }

  function timezone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || null; } catch (e) { return null; }
  }

  // --- small DOM helpers ----------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function hiddenText(text) { return el("span", "visually-hidden", text); }

  function scrollToEnd() {
    transcript.scrollTop = transcript.scrollHeight;
  }

  function hasMessages() { return transcript.querySelector(".msg") !== null; }

  function clearTranscript() {
    while (transcript.firstChild) { transcript.removeChild(transcript.firstChild); }
    state.agentsPresent = {};
    brandSub.textContent = "Card assistant";
  }

  function showWelcome() {
    clearTranscript();
    transcript.appendChild(welcome);
  }

  function removeWelcome() {
    if (welcome.parentNode) { welcome.parentNode.removeChild(welcome); }
  }

  // Text with links: plain text nodes, and <a> elements for http(s) URLs. A link to our payment
  // page (/pay/<token>) becomes a clear "open the payment page" link in a new tab. Confirmation
  // numbers (PLN-7K3Q9X) are kept on one line.
  function appendRichText(container, text) {
    var last = 0;
    var afterPayLink = false;
    text.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(TRAILING_PUNCTUATION, "");
      var parsed = null;
      try { parsed = new URL(url); } catch (e) { parsed = null; }
      if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) { return match; }
      appendPlain(container, text.slice(last, offset), afterPayLink);
      var anchor = link(parsed, url);
      container.appendChild(anchor);
      afterPayLink = anchor.className === "pay-link";
      last = offset + url.length;
      return match;
    });
    appendPlain(container, text.slice(last), afterPayLink);
  }

  function appendPlain(container, text, afterBlock) {
    if (afterBlock) { text = text.replace(/^[ \t]*\n/, ""); } // the payment link is its own block
    var last = 0;
    specialSpans(text).forEach(function (span) {
      container.appendChild(document.createTextNode(text.slice(last, span.start)));
      container.appendChild(span.kind === "phone" ? telLink(span.text) : el("span", "reference", span.text));
      last = span.start + span.text.length;
    });
    container.appendChild(document.createTextNode(text.slice(last)));
  }

  // Confirmation numbers and phone numbers in `text`, in order, none overlapping another.
  function specialSpans(text) {
    var spans = [];
    text.replace(REFERENCE, function (match, offset) {
      spans.push({ kind: "reference", start: offset, text: match });
      return match;
    });
    text.replace(PHONE, function (match, before, number, offset) {
      spans.push({ kind: "phone", start: offset + before.length, text: number });
      return match;
    });
    spans.sort(function (a, b) { return a.start - b.start; });
    var kept = [];
    var end = 0;
    spans.forEach(function (span) {
      if (span.start >= end) { kept.push(span); end = span.start + span.text.length; }
    });
    return kept;
  }

  function telLink(shown) {
    var digits = shown.replace(/\D/g, "");
    if (digits.length === 10) { digits = "1" + digits; }
    var a = el("a", "tel-link", shown);
    a.href = "tel:" + (digits.length === 11 ? "+" + digits : digits);
    return a;
  }

  function link(parsed, shown) {
    var a = el("a");
    a.href = parsed.href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    if (PAYMENT_PATH.test(parsed.pathname)) {
      a.className = "pay-link";
      a.appendChild(el("span", "pay-link-label", "Open the secure payment page"));
      a.appendChild(el("span", "pay-link-host", parsed.host));
    } else {
      a.textContent = shown;
    }
    a.appendChild(hiddenText(" (opens in a new tab)"));
    return a;
  }

  // --- rendering ------------------------------------------------------------------------------
  function banner(text, kind) {
    var node = el("p", "banner" + (kind ? " banner--" + kind : ""), text);
    transcript.appendChild(node);
  }

  function removeQuickReplies() {
    var groups = transcript.querySelectorAll(".quick-replies");
    for (var i = 0; i < groups.length; i++) { groups[i].parentNode.removeChild(groups[i]); }
  }

  function renderUser(text, clientId) {
    removeWelcome();
    removeQuickReplies();
    var row = el("div", "msg msg--user");
    if (clientId) { row.setAttribute("data-client-id", clientId); }
    row.appendChild(hiddenText("You said: "));
    row.appendChild(el("p", "bubble", text));
    transcript.appendChild(row);
    scrollToEnd();
    return row;
  }

  function renderBot(message) {
    removeWelcome();
    var agent = typeof message.agent === "string" && message.agent ? message.agent : null;
    if (agent && !state.agentsPresent[agent]) {
      state.agentsPresent[agent] = true;
      banner(agent + " from " + BANK + " joined the chat. You're now talking with a person.", "agent");
      brandSub.textContent = "Chatting with " + agent;
    }
    if (!agent && !message.during_handoff) { agentsLeft(); } // the assistant is back: a hand-back
    var text = typeof message.text === "string" ? message.text : "";
    var replies = Array.isArray(message.quick_replies) ? message.quick_replies : [];
    if (text) {
      var row = el("div", "msg " + (agent ? "msg--agent" : "msg--bot"));
      if (agent) {
        row.appendChild(el("p", "sender", agent + ", " + BANK));
        row.appendChild(hiddenText(" said: "));
      } else {
        row.appendChild(hiddenText("Assistant said: "));
      }
      var bubble = el("p", "bubble");
      appendRichText(bubble, text);
      row.appendChild(bubble);
      transcript.appendChild(row);
    }
    if (replies.length) {
      removeQuickReplies();
      transcript.appendChild(quickReplies(replies));
    }
    if (agent && message.agent_status === "left") { agentsLeft(); }
    scrollToEnd();
  }

  function agentsLeft() {
    Object.keys(state.agentsPresent).forEach(function (agent) {
      delete state.agentsPresent[agent];
      banner(agent + " left the chat. The assistant will help you from here.", "agent");
    });
    brandSub.textContent = "Card assistant";
  }

  function quickReplies(replies) {
    var group = el("div", "quick-replies");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Reply options");
    replies.forEach(function (reply) {
      if (!reply || typeof reply.title !== "string" || typeof reply.payload !== "string") { return; }
      var button = el("button", "quick-reply", reply.title);
      button.type = "button";
      button.disabled = state.busy || !state.ready;
      button.addEventListener("click", function () { sendButtonReply(reply.title, reply.payload); });
      group.appendChild(button);
    });
    return group;
  }

  function renderHistory(messages) {
    transcript.setAttribute("aria-busy", "true");
    clearTranscript();
    messages.forEach(function (item) {
      if (!item) { return; }
      if (item.from === "user") { renderUser(String(item.text || "")); } else { renderBot(item); }
    });
    if (!hasMessages()) { transcript.appendChild(welcome); }
    transcript.setAttribute("aria-busy", "false");
    scrollToEnd();
  }

  // --- state ----------------------------------------------------------------------------------
  function setBusy(busy) {
    state.busy = busy;
    typing.hidden = !busy;
    app.setAttribute("data-state", busy ? "busy" : "idle");
    if (state.busyTimer) { clearTimeout(state.busyTimer); state.busyTimer = null; }
    if (busy) { state.busyTimer = setTimeout(function () { setBusy(false); }, BUSY_TIMEOUT_MS); }
    updateControls();
    if (busy) { scrollToEnd(); }
  }

  function setReady(ready, message) {
    state.ready = ready;
    connection.hidden = !message;
    connection.textContent = message || "";
    app.setAttribute("data-connection", ready ? "ready" : "waiting");
    updateControls();
  }

  function updateControls() {
    sendButton.disabled = !state.ready;
    var buttons = transcript.querySelectorAll(".quick-reply");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = state.busy || !state.ready; }
  }

  // --- sending --------------------------------------------------------------------------------
  function newClientId() { return "c" + (state.nextClientId++); }

  function emitUserMessage(body, clientId) {
    body.session_id = state.sessionId;
    body.session_token = state.sessionToken;
    body.client_id = clientId;
    body.metadata = { timezone: timezone() };
    socket.emit("user_uttered", body);
    setBusy(true);
  }

  function sendTyped(text) {
    var clientId = newClientId();
    renderUser(text, clientId);
    emitUserMessage({ message: text }, clientId);
  }

  function sendButtonReply(title, payload) {
    if (state.busy || !state.ready) { return; }
    var clientId = newClientId();
    renderUser(title, clientId);
    emitUserMessage({ message: title, payload: payload }, clientId);
    input.focus(); // the clicked button is gone: keep keyboard users in the composer
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    if (!state.ready) { setReady(false, "Still connecting. Your message is kept; please send it again in a moment."); return; }
    sendTyped(text);
    input.value = "";
    input.focus();
  });

  endChat.addEventListener("click", function () {
    if (!window.confirm("End this chat? The conversation will be cleared from this screen.")) { return; }
    storeSession(null, null);
    state.sessionId = null;
    state.sessionToken = null;
    setBusy(false);
    showWelcome();
    if (socket.connected) { socket.emit("session_request", {}); }
    input.focus();
  });

  // --- the connection -------------------------------------------------------------------------
  var socketPath = document.querySelector('meta[name="evenkeel-socket-path"]').getAttribute("content");
  var socket = window.io({ path: socketPath });
  setReady(false, "Connecting…");
  setBusy(false);

  socket.on("connect", function () {
    // On a fresh page with a stored session, ask for the conversation so far.
    socket.emit("session_request", { session_id: state.sessionId, session_token: state.sessionToken,
                                     history: !!state.sessionId && !hasMessages() });
  });

  socket.on("session_token", function (data) {
    if (data && typeof data.session_id === "string" && typeof data.session_token === "string") {
      state.sessionToken = data.session_token;
      store(TOKEN_KEY, data.session_token);
    }
  });

  socket.on("session_confirm", function (sessionId) {
    if (typeof sessionId !== "string") { return; }
    if (state.sessionId && sessionId !== state.sessionId && hasMessages()) {
      // The server no longer knows our session: start clean rather than mix two conversations.
      showWelcome();
    }
    state.sessionId = sessionId;
    store(STORAGE_KEY, sessionId);
    setReady(true, "");
  });

  socket.on("history", function (data) {
    renderHistory(data && Array.isArray(data.messages) ? data.messages : []);
  });

  socket.on("bot_uttered", function (message) {
    if (message && typeof message === "object") { renderBot(message); }
  });

  socket.on("bot_turn_done", function () { setBusy(false); });

  socket.on("message_masked", function (data) {
    if (!data || typeof data.text !== "string") { return; }
    var rows = transcript.querySelectorAll(".msg--user");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-client-id") === data.client_id) {
        rows[i].querySelector(".bubble").textContent = data.text;
        rows[i].classList.add("msg--masked");
      }
    }
  });

  socket.on("disconnect", function () {
    setBusy(false);
    setReady(false, "Connection lost. Reconnecting…");
  });

  socket.on("connect_error", function () {
    setReady(false, "We can't connect right now. Trying again…");
  });

  if (window.matchMedia && window.matchMedia("(pointer: fine)").matches) { input.focus(); }
})();
