// The agent console page: polls the queue and the open case's transcript, and calls
// /console/api for every action. All text from customers is set with textContent, never as HTML.
"use strict";

(() => {
  const QUEUE_EVERY_MS = 3000;
  const TRANSCRIPT_EVERY_MS = 2000;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const me = document.body.dataset.agent;
  const myName = document.body.dataset.agentName;
  const $ = (id) => document.getElementById(id);
  const REASONS = {
    distress: "Distress", dispute: "Dispute", request_agent: "Asked for a person", bankruptcy: "Bankruptcy",
    attorney: "Attorney", deceased: "Deceased", misunderstanding: "Not understood", hardship: "Hardship",
    verification_locked: "Locked out of verification", other: "Other",
  };

  let current = null; // the case on screen
  let shownLines = -1; // how many transcript lines are on screen
  let transcriptTimer = null;

  class SignedOut extends Error {}

  async function api(method, path, body) {
    const response = await fetch(`/console/api${path}`, {
      method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    if (response.status === 401) {
      window.location.assign("/console/sign-in");
      throw new SignedOut();
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.detail || `The server answered ${response.status}.`);
      error.code = data.code;
      throw error;
    }
    return data;
  }

  function say(message) {
    $("status").textContent = message;
  }

  function showError(error) {
    if (error instanceof SignedOut) return;
    const banner = $("banner");
    banner.textContent = error.code === "upstream_unavailable"
      ? "The assistant cannot be reached right now; nothing was changed. Try again in a moment."
      : error.message;
    banner.hidden = false;
  }

  function clearError() {
    $("banner").hidden = true;
  }

  function money(cents, currency = "USD") {
    return new Intl.NumberFormat("en-US", { style: "currency", currency }).format((cents || 0) / 100);
  }

  function waited(since, now) {
    const minutes = Math.max(0, Math.round((now - new Date(since)) / 60000));
    if (minutes < 1) return "just now";
    if (minutes < 60) return `${minutes} min`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function caseButton(c, now, detail) {
    const item = element("li", `priority-${c.priority}`);
    const button = element("button");
    button.type = "button";
    button.dataset.caseId = c.id;
    if (current && current.id === c.id) button.setAttribute("aria-current", "true");
    const reason = element("span", "reason");
    if (c.priority === 0) reason.append(element("span", "tag", "URGENT"));
    reason.append(REASONS[c.reason] || c.reason);
    button.append(reason, element("span", "who", `${c.channel} · ${c.verified ? `verified ${c.account_id}` : "not verified"}`),
      element("span", "when", detail(c, now)));
    button.addEventListener("click", () => openCase(c.id));
    item.append(button);
    return item;
  }

  async function refreshQueue() {
    try {
      const queue = await api("GET", "/queue");
      const now = new Date(queue.server_time);
      $("open-cases").replaceChildren(...queue.open.map((c) => caseButton(c, now,
        (x) => `#${x.queue_position} · waiting ${waited(x.waiting_since, now)}`)));
      $("claimed-cases").replaceChildren(...queue.claimed.map((c) => caseButton(c, now,
        (x) => `${x.claimed_by === me ? "yours" : x.claimed_by} · since ${waited(x.claimed_at, now)}`)));
      $("queue-count").textContent = String(queue.open.length);
      // Seen from another tab: how many customers are waiting.
      document.title = `${queue.open.length ? `(${queue.open.length}) ` : ""}Evenkeel agent console`;
      if (!queue.open.length) $("open-cases").append(element("li", "empty", "Nobody is waiting."));
      renderReports((await api("GET", "/reports")).reports, "all-reports-box", "all-reports", true);
    } catch (error) {
      showError(error);
    }
  }

  async function refreshHistory() {
    try {
      const history = await api("GET", "/history");
      $("closed-cases").replaceChildren(...history.cases.map((c) => caseButton(c, new Date(),
        (x) => `${x.claimed_by} · ${x.outcome || ""}`)));
      if (!history.cases.length) $("closed-cases").append(element("li", "empty", "No closed cases yet."));
    } catch (error) {
      showError(error);
    }
  }

  function renderFacts(c) {
    $("case-title").textContent = `${REASONS[c.reason] || c.reason} · ${c.id}`;
    const state = c.status === "open" ? `waiting, #${c.queue_position} in line`
      : c.status === "claimed" ? `claimed by ${c.claimed_by === me ? "you" : c.claimed_by}`
      : `resolved by ${c.claimed_by}: ${c.outcome}`;
    $("case-meta").textContent = `${c.channel} · conversation ${c.conversation_id} · ${state}`;
    $("summary").textContent = c.summary;
    const ctx = c.context || {};
    const account = ctx.account || {};
    const rows = [
      ["Verified", c.verified ? `yes (${c.account_id})` : "no"],
      ["Balance", account.balance_cents !== undefined ? money(account.balance_cents, account.currency) : null],
      ["Past due", account.past_due_cents !== undefined
        ? `${money(account.past_due_cents, account.currency)} (${account.days_past_due} days)` : null],
      ["Flags", account.flags && account.flags.length ? account.flags.join(", ") : null],
      ["Came about", ctx.asked_for],
      ["Offers made", ctx.offers_made && ctx.offers_made.length ? ctx.offers_made.join(", ") : null],
      ["Plan booked", ctx.plan_booked],
      ["Waiting since", new Date(c.waiting_since).toLocaleString()],
    ];
    $("facts").replaceChildren(...rows.filter(([, v]) => v).flatMap(([k, v]) => [element("dt", "", k), element("dd", "", String(v))]));
    $("notes").replaceChildren(...c.notes.map((n) => {
      const item = element("li", "", n.text);
      item.append(element("div", "by", `${n.author}, ${new Date(n.created_at).toLocaleString()}`));
      return item;
    }));
    const mine = c.status === "claimed" && c.claimed_by === me;
    $("claim").hidden = c.status !== "open";
    $("release").hidden = !mine;
    $("dispute").hidden = !mine || !c.account_id;
    $("resolve-form").hidden = !mine;
    $("note-form").hidden = c.status === "resolved";
  }

  function renderTranscript(t) {
    renderFacts(t.case);
    current = t.case;
    if (t.lines.length !== shownLines) {
      const list = $("transcript");
      const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
      list.replaceChildren(...t.lines.map((line) => {
        const item = element("li", line.speaker);
        const who = line.speaker === "agent" ? `${line.agent} (agent)` : line.speaker;
        item.append(element("span", "speaker", `${who} · ${new Date(line.at).toLocaleTimeString()}`));
        item.append(document.createTextNode(line.text));
        return item;
      }));
      if (atBottom || shownLines < 0) list.scrollTop = list.scrollHeight;
      shownLines = t.lines.length;
    }
    $("reply-text").disabled = !t.can_reply;
    $("send").disabled = !t.can_reply;
    $("reply-help").textContent = t.why_not || `Sent as ${myName} on the customer's ${t.case.channel} channel.`;
  }

  const REPORTED = {
    deceased: "A death", bankruptcy: "A bankruptcy", attorney: "An attorney", dispute: "A dispute",
    cease: "A request to stop all contact",
  };

  // In a case: only the agent who has it reviews; in the queue: anyone (no case may point to it).
  function renderReports(reports, box = "reports-box", list = "reports", mayReview = null) {
    const mine = mayReview !== null ? mayReview : current && current.status === "claimed" && current.claimed_by === me;
    $(box).hidden = !reports.length;
    $(list).replaceChildren(...reports.map((r) => {
      const item = element("li", "report");
      item.append(element("strong", "", `${REPORTED[r.kind] || r.kind} reported`),
        element("div", "by", `by ${r.reported_by.replace("_", " ")} on ${r.channel}, ${new Date(r.created_at).toLocaleString()}`
          + (r.account_id ? ` · account ${r.account_id}` : " · matched no account")),
        element("p", "", r.summary));
      if (mine) {
        const confirm = element("button", "primary", "Confirm");
        confirm.type = "button";
        confirm.disabled = !r.account_id;
        confirm.title = r.account_id ? `Sets the ${r.kind} flag on ${r.account_id}` : "No account to flag";
        confirm.addEventListener("click", () => review(r.id, "confirm"));
        const dismiss = element("button", "", "Dismiss");
        dismiss.type = "button";
        dismiss.addEventListener("click", () => review(r.id, "dismiss"));
        item.append(confirm, dismiss);
      }
      return item;
    }));
  }

  async function review(reportRow, action) {
    clearError();
    try {
      await api("POST", `/reports/${encodeURIComponent(reportRow)}/${action}`);
      say(action === "confirm" ? "Confirmed; the account is flagged." : "Dismissed; collection may go on.");
      await refreshTranscript();
      await refreshQueue();
    } catch (error) {
      showError(error);
    }
  }

  async function refreshTranscript() {
    if (!current) return;
    try {
      renderTranscript(await api("GET", `/cases/${encodeURIComponent(current.id)}/transcript`));
      renderReports((await api("GET", `/cases/${encodeURIComponent(current.id)}/reports`)).reports);
    } catch (error) {
      showError(error);
    }
  }

  async function openCase(caseId) {
    clearError();
    try {
      current = await api("GET", `/cases/${encodeURIComponent(caseId)}`);
    } catch (error) {
      showError(error);
      return;
    }
    shownLines = -1;
    $("no-case").hidden = true;
    $("case-view").hidden = false;
    renderFacts(current);
    $("transcript").replaceChildren();
    await refreshTranscript();
    clearInterval(transcriptTimer);
    transcriptTimer = setInterval(refreshTranscript, TRANSCRIPT_EVERY_MS);
    $("case").focus();
    refreshQueue();
  }

  async function act(path, body, done) {
    clearError();
    try {
      const result = await api("POST", `/cases/${encodeURIComponent(current.id)}${path}`, body);
      if (done) done(result);
      await refreshTranscript();
      await refreshQueue();
    } catch (error) {
      showError(error);
    }
  }

  $("claim").addEventListener("click", () => act("/claim", undefined, () => {
    const reply = $("reply-text");
    if (!reply.value) {
      reply.value = `Hi, this is ${myName} from the Lakeside Bank team. I've read your conversation with our assistant, so you won't need to repeat anything.`;
    }
    say("You have the case.");
  }));
  $("release").addEventListener("click", () => act("/release", undefined, () => say("The case is back in the queue.")));
  $("dispute").addEventListener("click", () => act("/dispute", undefined, () => say("Marked as a dispute; collection is paused.")));

  $("reply-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("reply-text").value.trim();
    if (!text) return;
    $("send").disabled = true; // one click, one message
    act("/reply", { text }, () => {
      $("reply-text").value = "";
      say("Sent.");
    }).finally(() => { $("send").disabled = false; });
  });

  $("note-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("note-text").value.trim();
    if (!text) return;
    act("/notes", { text }, () => { $("note-text").value = ""; say("Note added."); });
  });

  $("resolve-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const outcome = $("outcome").value.trim();
    if (!outcome) {
      showError(new Error("Write the outcome before you resolve the case."));
      $("outcome").focus();
      return;
    }
    $("resolve").disabled = true;
    act("/resolve", { outcome, hand_back: $("hand-back").checked }, () => {
      $("outcome").value = "";
      say("Case resolved.");
    }).finally(() => { $("resolve").disabled = false; });
  });

  function showView(history) {
    $("queue").hidden = history;
    $("history").hidden = !history;
    $("show-queue").setAttribute("aria-pressed", String(!history));
    $("show-history").setAttribute("aria-pressed", String(history));
    if (history) refreshHistory();
  }
  $("show-queue").addEventListener("click", () => showView(false));
  $("show-history").addEventListener("click", () => showView(true));

  refreshQueue();
  setInterval(refreshQueue, QUEUE_EVERY_MS);
})();
