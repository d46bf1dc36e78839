/** The editor page, /d/{doc}: CodeMirror bound to a DocSession, with the people, status and name controls. */
import "../styles.css";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { Compartment, EditorState } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, keymap, lineNumbers, placeholder } from "@codemirror/view";
import { CollabConnection } from "../client/connection";
import { DocSession, type DocStatusInfo } from "../client/docSession";
import { tabClientId } from "../client/ids";
import { DocStore } from "../client/persistence";
import { isValidDocId } from "../client/protocol";
import type { RemoteCursor } from "../client/presence";
import { collab } from "../editor/collab";
import { loadMe, rememberDoc, saveMe } from "./prefs";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const doc = decodeURIComponent(location.pathname.replace(/^\/d\//, "").replace(/\/.*$/, ""));
if (!isValidDocId(doc)) {
  document.body.innerHTML = `<main class="landing-main"><h1>Not a document name</h1><p><a href="/">Back to Collab</a></p></main>`;
  throw new Error(`invalid document id: ${doc}`);
}
document.title = `${doc} · Collab`;
$("doc-name").textContent = doc;
rememberDoc(doc);

function safeStorage(get: () => Storage): Storage | null {
  try {
    return get();
  } catch {
    return null;
  }
}

const store = new DocStore(safeStorage(() => localStorage));
const { clientId } = tabClientId(safeStorage(() => sessionStorage), () => store.findOrphan(doc));
store.heartbeat(clientId);
setInterval(() => store.heartbeat(clientId), 5000);

const me = loadMe();
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
// WebSocket first; SSE + POST when the WebSocket cannot be established here (the choice is kept for the tab).
const connection = new CollabConnection({
  url: wsUrl,
  sseUrl: `${location.origin}/sse`,
  clientId,
  user: me,
  transportStore: safeStorage(() => sessionStorage),
});
const session = new DocSession({ doc, connection, store });

const restored = session.initialText();
// Until the session holds the text (restored from storage or joined), typing would have nothing to apply to.
const editable = new Compartment();
const view = new EditorView({
  parent: $("editor"),
  state: EditorState.create({
    doc: restored ?? "",
    extensions: [
      lineNumbers(),
      history(),
      drawSelection(),
      highlightActiveLine(),
      EditorView.lineWrapping,
      keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
      placeholder("Start typing — everyone with the link sees it live."),
      editable.of(restored === null ? [EditorState.readOnly.of(true), EditorView.editable.of(false)] : []),
      collab(session),
    ],
  }),
});
session.onReady(() => {
  view.dispatch({ effects: editable.reconfigure([]) });
  view.focus();
});
connection.start();

// ---- status: connected / reconnecting / offline, with unsent edits and the transport ----
const STATUS_TEXT: Record<DocStatusInfo["status"], string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};
function renderStatus(info: DocStatusInfo): void {
  const el = $("status");
  el.dataset.status = info.status;
  el.dataset.unsent = String(info.unsent);
  let text = STATUS_TEXT[info.status];
  if (info.unsent > 0 && info.status !== "connected") text += ` · ${info.unsent} unsent edit${info.unsent === 1 ? "" : "s"}`;
  else if (info.unsent > 0) text = "Saving…";
  $("status-text").textContent = text;
  $("transport").textContent = info.transport;
  el.dataset.transport = connection.transportKind;
  el.title = `${text} · revision ${info.rev} · transport ${info.transport}`;
}
session.onStatus(renderStatus);

// ---- who else is here ----
function renderPeople(cursors: RemoteCursor[]): void {
  const mine = document.createElement("li");
  mine.className = "person me-chip";
  mine.title = `${me.name} (you)`;
  mine.style.setProperty("--c", me.color);
  mine.textContent = initials(me.name);
  const others = dedupe(cursors).map((c) => {
    const li = document.createElement("li");
    li.className = "person";
    li.title = c.name;
    li.dataset.name = c.name;
    li.style.setProperty("--c", c.color);
    li.textContent = initials(c.name);
    return li;
  });
  $("people").replaceChildren(mine, ...others);
  $("people").dataset.count = String(others.length);
}
function dedupe(cursors: RemoteCursor[]): RemoteCursor[] {
  const seen = new Map<string, RemoteCursor>();
  for (const c of cursors) seen.set(c.sessionId, c);
  return [...seen.values()];
}
function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "?") + (parts[1]?.[0] ?? "")).toUpperCase();
}
// The session reports cursors to the editor; mirror them into the list.
const originalSet = session.cursors.bind(session);
setInterval(() => renderPeople(originalSet()), 500);
renderPeople([]);

// ---- copy link ----
$("copy-link").addEventListener("click", async () => {
  const button = $("copy-link");
  const url = `${location.origin}/d/${encodeURIComponent(doc)}`;
  try {
    await navigator.clipboard.writeText(url);
    button.textContent = "Copied!";
  } catch {
    window.prompt("Copy this link", url);
  }
  setTimeout(() => (button.textContent = "Copy link"), 1500);
});

// ---- my name and colour ----
const nameInput = $<HTMLInputElement>("my-name");
const colorInput = $<HTMLInputElement>("my-color");
nameInput.value = me.name;
colorInput.value = me.color;
let userTimer: ReturnType<typeof setTimeout> | null = null;
function userChanged(): void {
  me.name = nameInput.value.trim().slice(0, 64) || "Anonymous";
  me.color = colorInput.value;
  saveMe(me);
  renderPeople(originalSet());
  if (userTimer) clearTimeout(userTimer);
  // A new hello (new socket) tells the others; wait until the person stops typing their name.
  userTimer = setTimeout(() => connection.setUser({ name: me.name, color: me.color }), 600);
}
nameInput.addEventListener("input", userChanged);
colorInput.addEventListener("input", userChanged);

// ---- the browser's own idea of the network ----
window.addEventListener("offline", () => connection.goOffline());
window.addEventListener("online", () => connection.goOnline());
window.addEventListener("pagehide", () => connection.stop());

/** For the end-to-end tests and for debugging from the console. */
declare global {
  interface Window {
    collab: { session: DocSession; connection: CollabConnection; view: EditorView; clientId: string };
  }
}
window.collab = { session, connection, view, clientId };
window.addEventListener("pageshow", (event) => {
  // Back from the back/forward cache: the socket was closed on pagehide; start fresh (state is in storage).
  if (event.persisted) location.reload();
});
