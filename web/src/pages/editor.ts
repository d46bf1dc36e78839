/** The editor page, /d/{doc}: CodeMirror bound to a DocSession, with the people, status and name controls. */
import "../styles.css";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { Compartment, EditorState } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, keymap, lineNumbers, placeholder } from "@codemirror/view";
import { CollabConnection } from "../client/connection";
import { DocSession, type DocStatusInfo } from "../client/docSession";
import { newTabClientId, randomId, tabClientId } from "../client/ids";
import { DocStore } from "../client/persistence";
import { isValidDocId } from "../client/protocol";
import type { RemoteCursor } from "../client/presence";
import { browserTabChannel, TabIdentity } from "../client/tabIdentity";
import { collab } from "../editor/collab";
import { linkToken, shareUrl } from "./link";
import { loadMe, rememberDoc, saveMe } from "./prefs";
import { setupShareDialog } from "./share";

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

// Links mode: the share link's token, from #k=… (then out of the address bar) or from an earlier load of this tab.
const token = linkToken(doc, location.hash, safeStorage(() => sessionStorage),
  () => window.history.replaceState(window.history.state, "", location.pathname + location.search));

const store = new DocStore(safeStorage(() => localStorage));
const tabStorage = safeStorage(() => sessionStorage);
const tabs = new TabIdentity(browserTabChannel(), tabClientId(tabStorage, () => store.findOrphan(doc)).clientId, { waitMs: 200 });
// "Duplicate tab" copies sessionStorage, clientId included; so does an adopted orphan whose tab is only throttled.
// If a live tab answers for this clientId, this page is the copy: a fresh clientId, and so none of the original's
// outbox (persisted per document and clientId), which the original keeps sending itself.
if (await tabs.claimedElsewhere()) {
  tabs.clientId = newTabClientId();
  tabStorage?.setItem("collab.clientId", tabs.clientId);
}
/** This page load's id in every hello (memory only: a reload or a copy of the tab is another page). */
const instance = randomId(16);

const me = loadMe();
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
// WebSocket first; SSE + POST when the WebSocket cannot be established here (the choice is kept for the tab).
const connection = new CollabConnection({
  url: wsUrl,
  sseUrl: `${location.origin}/sse`,
  clientId: tabs.clientId,
  instance,
  guard: tabs,
  user: me,
  ...(token ? { token } : {}),
  transportStore: safeStorage(() => sessionStorage),
});
tabs.onAskedLate = () => connection.clientIdAsked();
connection.onClientId((id) => {
  tabs.clientId = id;
  tabStorage?.setItem("collab.clientId", id);
  store.heartbeat(id);
});
store.heartbeat(connection.clientId);
setInterval(() => store.heartbeat(connection.clientId), 5000);
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
// Editable once the session holds the text, unless the link is view-only or no longer valid. A view-only editor
// keeps its caret (readOnly, still contenteditable) so the person's cursor is still shown to the others.
let editableState = "";
function updateEditable(info: DocStatusInfo): void {
  const denied = info.status === "revoked" || info.status === "expired" || info.status === "unauthorized";
  // With a link, nothing is typed before the server has said what the link allows.
  const unknown = token !== null && info.access === null;
  const next = !session.ready || denied || unknown ? "none" : info.access === "view" ? "view" : "edit";
  if (next === editableState) return;
  editableState = next;
  view.dispatch({
    effects: editable.reconfigure(next === "edit" ? [] : next === "view" ? EditorState.readOnly.of(true)
      : [EditorState.readOnly.of(true), EditorView.editable.of(false)]),
  });
}
session.onReady(() => {
  updateEditable(session.statusInfo());
  view.focus();
});
connection.start();

// ---- status: connected / reconnecting / offline, with unsent edits and the transport ----
const STATUS_TEXT: Record<DocStatusInfo["status"], string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  revoked: "Access revoked",
  expired: "Sign-in expired",
  unauthorized: "No access",
};
const REVOKED = "Your link to this document was revoked by its owner. Ask for a new link.";
const INVALID = "This link is not valid for this document.";
const EXPIRED = "Your sign-in expired. Sign in again to keep editing.";
const SIGNED_OUT = "Your access was revoked. Sign in again, or ask for access.";
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
  renderAccess(info);
  updateEditable(info);
}

// ---- access: view-only badge, the owner's Share, and links that stopped working ----
let openShare: (() => void) | null = null;
function renderAccess(info: DocStatusInfo): void {
  $("access-badge").hidden = info.access !== "view";
  const owner = info.access === "owner" && token !== null;
  $("share").hidden = !owner;
  // An owner shares through the dialog: copying the address would hand out the owner link.
  $("copy-link").hidden = owner || info.status === "revoked" || info.status === "expired" || info.status === "unauthorized";
  if (owner && !openShare) openShare = setupShareDialog(doc, token);
  const notice = $("notice");
  let message: string | null = null;
  let kind = "error";
  // A rotated link says "link" in its close reason; a revoked token or user does not.
  if (info.status === "revoked") message = /link/i.test(connection.revokedBy?.reason ?? "link") ? REVOKED : SIGNED_OUT;
  else if (info.status === "expired") message = EXPIRED;
  else if (info.status === "unauthorized") message = /revoked/i.test(info.message ?? "") ? REVOKED : INVALID;
  else if (session.refused) {
    message = `Your edit was not saved: ${session.refused.message}.`;
    kind = "warn";
  }
  if (info.status === "unauthorized") connection.stop(); // nothing to reconnect for
  notice.hidden = message === null;
  notice.textContent = message ?? "";
  notice.dataset.kind = kind;
  if (info.status === "revoked" || info.status === "expired" || info.status === "unauthorized") notice.dataset.reason = info.status;
  else delete notice.dataset.reason;
}
session.onStatus(renderStatus);
$("share").addEventListener("click", () => openShare?.());

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
  // With a link token, hand out the same link (the same rights: edit or view); in Open mode the plain address.
  const url = token ? shareUrl(location.origin, doc, token) : `${location.origin}/d/${encodeURIComponent(doc)}`;
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
window.addEventListener("pagehide", () => {
  connection.stop();
  tabs.close();
});

/** For the end-to-end tests and for debugging from the console. */
declare global {
  interface Window {
    collab: { session: DocSession; connection: CollabConnection; view: EditorView; readonly clientId: string };
  }
}
window.collab = { session, connection, view, get clientId() { return connection.clientId; } };
window.addEventListener("pageshow", (event) => {
  // Back from the back/forward cache: the socket was closed on pagehide; start fresh (state is in storage).
  if (event.persisted) location.reload();
});
