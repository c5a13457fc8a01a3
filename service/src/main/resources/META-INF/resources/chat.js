// Ternstream chat page: one WebSocket per session (/v1/sessions/{id}/stream). It sends the prompts
// topic's JSON (prompt, cancel, fork, reset) and renders the session's reply events as they arrive.
"use strict";
const $ = (id) => document.getElementById(id);
const USER = "User: ", ASSISTANT = "Assistant:";

let socket = null;
let sessionId = null;
let turns = 0;              // completed turns of this session: the first prompt has no leading newline
let running = null;         // { requestId, started, firstAt, tokens, element }
let lastSeen = null;        // { requestId, seq } for resuming after a dropped connection
let reconnectDelay = 250;

function randomId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function addMessage(kind, text) {
  const div = document.createElement("div");
  div.className = "msg " + kind;
  div.textContent = text;
  $("transcript").appendChild(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

function setStatus(text) { $("status").textContent = text; }

function connect() {
  if (socket) { socket.onclose = null; socket.close(); }
  const params = new URLSearchParams();
  const key = $("apiKey").value.trim();
  if (key) params.set("api_key", key);
  if (lastSeen) { params.set("lastRequestId", lastSeen.requestId); params.set("lastSeq", lastSeen.seq); }
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}/v1/sessions/${encodeURIComponent(sessionId)}/stream?${params}`;
  const ws = new WebSocket(url);
  socket = ws;
  setStatus("connecting…");
  ws.onopen = () => { setStatus("connected · " + sessionId); reconnectDelay = 250; };
  ws.onmessage = (m) => onEvent(JSON.parse(m.data));
  ws.onclose = (e) => {
    if (socket !== ws) return;
    setStatus("disconnected (" + e.code + "), reconnecting…");
    setTimeout(connect, reconnectDelay);            // resume from lastSeen: nothing is lost
    reconnectDelay = Math.min(reconnectDelay * 2, 5000);
  };
}

function onEvent(e) {
  if (e.requestId && typeof e.seq === "number") lastSeen = { requestId: e.requestId, seq: e.seq };
  if (e.type === "gateway_error" || e.type === "error") {
    addMessage("error", `${e.code}: ${e.message}`);
    if (running && (!e.requestId || e.requestId === running.requestId)) finishTurn();
    return;
  }
  if (e.type === "ack") {
    addMessage("note", `${e.command}: ${e.ok ? "done" : "failed"}${e.detail ? " (" + e.detail + ")" : ""}`);
    return;
  }
  if (!running || e.requestId !== running.requestId) return;
  if (e.type === "token") {
    if (running.firstAt === null) running.firstAt = performance.now();
    running.tokens += e.tokenIds.length;
    running.element.textContent += e.text;
    showStats();
  } else if (e.type === "complete") {
    if (e.text) running.element.textContent += e.text;
    if (e.usage) running.server = e.usage;
    running.element.dataset.finish = e.finishReason;
    showStats();
    turns++;
    finishTurn();
  }
}

function showStats() {
  if (!running || running.firstAt === null) return;
  const ttft = running.firstAt - running.started;
  const seconds = (performance.now() - running.firstAt) / 1000;
  const rate = running.tokens > 1 && seconds > 0 ? (running.tokens - 1) / seconds : 0;
  let text = `time to first token: ${ttft.toFixed(0)} ms · tokens/s: ${rate.toFixed(1)} · tokens: ${running.tokens}`;
  if (running.server) {
    text += ` · server: ${running.server.timeToFirstTokenMs.toFixed(1)} ms, ${running.server.tokensPerSecond.toFixed(1)} tok/s`;
  }
  $("stats").textContent = text;
}

function finishTurn() {
  running = null;
  $("send").disabled = false;
  $("stop").disabled = true;
}

function send(message) {
  if (!socket || socket.readyState !== WebSocket.OPEN) { addMessage("error", "not connected"); return false; }
  socket.send(JSON.stringify(message));
  return true;
}

$("form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("prompt").value.trim();
  if (!text || running) return;
  const requestId = randomId("r");
  const prompt = (turns > 0 ? "\n" : "") + USER + text + "\n" + ASSISTANT;
  const maxTokens = parseInt($("maxTokens").value, 10) || 64;
  if (!send({ type: "prompt", sessionId, requestId, text: prompt, params: { maxTokens } })) return;
  addMessage("user", text);
  running = { requestId, started: performance.now(), firstAt: null, tokens: 0, element: addMessage("assistant", "") };
  $("prompt").value = "";
  $("send").disabled = true;
  $("stop").disabled = false;
});

$("prompt").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("form").requestSubmit(); }
});

$("stop").addEventListener("click", () => {
  if (running) send({ type: "cancel", sessionId, requestId: randomId("c"), targetRequestId: running.requestId });
});

$("reset").addEventListener("click", () => {
  if (send({ type: "reset", sessionId, requestId: randomId("x") })) turns = 0;
});

// Fork: copy this session's state into a new session and continue there; the old one stays as it was.
$("fork").addEventListener("click", () => {
  const target = randomId("s");
  if (!send({ type: "fork", sessionId, requestId: randomId("f"), targetSessionId: target })) return;
  addMessage("note", `forked into ${target}`);
  switchSession(target);
});

$("session").addEventListener("change", () => switchSession($("session").value.trim() || randomId("s")));
$("apiKey").addEventListener("change", () => { localStorage.setItem("ternstream.apiKey", $("apiKey").value); connect(); });

function switchSession(id) {
  sessionId = id;
  $("session").value = id;
  lastSeen = null;
  history.replaceState(null, "", "#" + encodeURIComponent(id));
  connect();
}

$("apiKey").value = localStorage.getItem("ternstream.apiKey") || "";
switchSession(decodeURIComponent(location.hash.slice(1)) || randomId("s"));
