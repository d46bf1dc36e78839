// Share links on the client: the token in every hello, joined.access, 4403 and `unauthorized` ending the
// session for good (no reconnect, no rejoin), and ops a view link cannot send dropped instead of resent forever.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CollabConnection } from "../../src/client/connection";
import { DocSession, type EditorHost } from "../../src/client/docSession";
import { TextOperation } from "../../src/client/textOperation";
import { linkToken, shareUrl, tokenFromHash } from "../../src/pages/link";
import { FakeHub, MemoryStorage } from "./fakeHub";
import { seedMathRandom, until, useFakeTime } from "./random";

class FakeEditor implements EditorHost {
  text = "";
  applyRemote(op: TextOperation): void { this.text = op.apply(this.text); }
  setCursors(): void {}
}

const TOKEN = "e1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

describe("share links on the client", () => {
  beforeEach(() => { useFakeTime(); seedMathRandom(1); });
  afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });

  function person(hub: FakeHub, options: { token?: string; sse?: boolean } = {}) {
    const connection = new CollabConnection({
      url: "ws://host/ws", sseUrl: "http://host/sse", clientId: "c", transportStore: new MemoryStorage(), fetch: hub.fetch,
      webSocket: hub.webSocket, backoff: { baseMs: 1, maxMs: 5 }, helloTimeoutMs: 100,
      ...(options.token ? { token: options.token } : {}),
    });
    const session = new DocSession({ doc: "d", connection });
    const editor = new FakeEditor();
    session.attach(editor);
    connection.start();
    const type = (text: string) => {
      const op = new TextOperation().retain(editor.text.length).insert(text);
      editor.text = op.apply(editor.text);
      session.localChange(op);
    };
    return { connection, session, editor, type };
  }
  const sent = (hub: FakeHub, type: string) => hub.received.filter((r) => r.frame.type === type).map((r) => r.frame);
  const joinedNow = (s: DocSession) => () => s.statusInfo().status === "connected";

  it("sends the link's token in hello on the first connection and on every reconnect, over both transports", async () => {
    const hub = new FakeHub();
    const { connection, session } = person(hub, { token: TOKEN });
    await until(joinedNow(session), "the first join");
    hub.closeSessions(1006, "dropped");
    await until(() => sent(hub, "hello").length === 2 && connection.status === "connected", "the reconnect");
    hub.ws = "fail"; // the next connection falls back to SSE
    hub.closeSessions(1006, "dropped");
    await until(() => connection.transportKind === "sse" && connection.status === "connected", "the SSE fallback");
    const hellos = hub.received.filter((r) => r.frame.type === "hello");
    expect(hellos.length).toBeGreaterThanOrEqual(3);
    expect(hellos.map((h) => h.frame.token)).toEqual(hellos.map(() => TOKEN));
    expect(hellos.some((h) => h.via === "sse")).toBe(true);
  });

  it("refreshes a token over the open session with auth, and sends the new one in every later hello", async () => {
    const hub = new FakeHub();
    const { connection, session } = person(hub, { token: "jwt-1" });
    await until(joinedNow(session), "the first join");
    connection.refreshToken("jwt-2");
    await until(() => sent(hub, "auth").length === 1, "the auth frame");
    expect(sent(hub, "auth")[0]!.token).toBe("jwt-2");
    expect(sent(hub, "hello").length).toBe(1); // no reconnect for a refresh
    hub.closeSessions(1006, "dropped");
    await until(() => sent(hub, "hello").length === 2 && connection.status === "connected", "the reconnect");
    expect(sent(hub, "hello")[1]!.token).toBe("jwt-2");
  });

  it("sends no token in Open mode, and reports no access", async () => {
    const hub = new FakeHub();
    const { session } = person(hub);
    await until(joinedNow(session), "the join");
    expect(sent(hub, "hello")[0]).not.toHaveProperty("token");
    expect(session.access).toBeNull();
    expect(session.statusInfo().access).toBeNull();
  });

  it("takes the access from joined", async () => {
    const hub = new FakeHub();
    hub.access = "view";
    const { session } = person(hub, { token: TOKEN });
    await until(joinedNow(session), "the join");
    expect(session.access).toBe("view");
    expect(session.statusInfo().access).toBe("view");
  });

  for (const sse of [false, true]) {
    it(`stops reconnecting after 4403 (link revoked) and says so (${sse ? "SSE close event" : "WebSocket close"})`, async () => {
      const hub = new FakeHub();
      if (sse) hub.ws = "fail";
      const { connection, session } = person(hub, { token: TOKEN });
      await until(joinedNow(session), "the join");
      const attempts = hub.wsAttempts.length + hub.requests.filter((r) => r.url === "/sse").length;
      hub.closeSessions(4403, "your edit link to 'd' was revoked by its owner; ask for a new link");
      await until(() => session.statusInfo().status === "revoked", "the revoked status");
      await vi.advanceTimersByTimeAsync(10_000); // far past every backoff
      expect(hub.wsAttempts.length + hub.requests.filter((r) => r.url === "/sse").length).toBe(attempts);
      expect(connection.status).toBe("revoked");
      expect(connection.revokedBy?.code).toBe(4403);
      connection.goOffline();
      connection.goOnline();
      await vi.advanceTimersByTimeAsync(1000);
      expect(connection.status).toBe("revoked");
      expect(hub.wsAttempts.length + hub.requests.filter((r) => r.url === "/sse").length).toBe(attempts);
    });
  }

  it("stops reconnecting after 4401 (token expired) and reports expired, not revoked", async () => {
    const hub = new FakeHub();
    const { connection, session } = person(hub, { token: TOKEN });
    await until(joinedNow(session), "the join");
    const attempts = hub.wsAttempts.length;
    hub.closeSessions(4401, "your token expired; get a new one and reconnect");
    await until(() => session.statusInfo().status === "expired", "the expired status");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(hub.wsAttempts.length).toBe(attempts);
    expect(connection.status).toBe("expired");
    expect(connection.revokedBy?.code).toBe(4401);
  });

  it("keeps reconnecting after other close codes", async () => {
    const hub = new FakeHub();
    const { connection, session } = person(hub, { token: TOKEN });
    await until(joinedNow(session), "the join");
    hub.closeSessions(4409, "send queue overflow");
    await until(() => sent(hub, "join").length === 2 && connection.status === "connected", "the resume");
  });

  it("does not join again after `unauthorized`, and reports the server's message", async () => {
    const hub = new FakeHub();
    hub.denyJoins = "the link you used for 'd' was revoked by its owner; ask for a new one";
    const { connection, session } = person(hub, { token: TOKEN });
    await until(() => session.statusInfo().status === "unauthorized", "the refusal");
    expect(session.statusInfo().message).toContain("revoked");
    hub.closeSessions(1006, "dropped"); // even on a new socket the same credential would be refused
    await until(() => sent(hub, "hello").length === 2 && connection.status === "connected", "the reconnect");
    await vi.advanceTimersByTimeAsync(100);
    expect(sent(hub, "join")).toHaveLength(1);
    expect(session.statusInfo().status).toBe("unauthorized");
  });

  it("drops an op refused as forbidden from the outbox, puts the text back and never resends it", async () => {
    const hub = new FakeHub();
    hub.access = "edit";
    const { session, editor, type } = person(hub, { token: TOKEN });
    await until(joinedNow(session), "the join");
    hub.access = "view"; // the server now takes this session for a viewer
    type("hello");
    await until(() => session.refused !== null, "the forbidden answer");
    expect(session.unsentEdits()).toBe(0);
    expect(editor.text).toBe("");
    expect(session.statusInfo().message).toContain("view-only");
    hub.closeSessions(1006, "dropped");
    await until(() => sent(hub, "join").length === 2 && joinedNow(session)(), "the resume");
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent(hub, "op")).toHaveLength(1);
  });

  it("a view session sends no op at all: an edit that gets through is undone", async () => {
    const hub = new FakeHub();
    hub.access = "view";
    const { session, editor, type } = person(hub, { token: TOKEN });
    await until(joinedNow(session), "the join");
    type("x");
    await vi.advanceTimersByTimeAsync(10);
    expect(sent(hub, "op")).toHaveLength(0);
    expect(editor.text).toBe("");
    expect(session.unsentEdits()).toBe(0);
    expect(session.statusInfo().status).toBe("connected");
  });
});

describe("link tokens in the page", () => {
  it("reads k from the fragment, remembers it in session storage for reloads and clears the fragment", () => {
    const store = new MemoryStorage();
    let cleared = 0;
    expect(linkToken("notes", `#k=${TOKEN}`, store, () => cleared++)).toBe(TOKEN);
    expect(cleared).toBe(1);
    expect(linkToken("notes", "", store, () => cleared++)).toBe(TOKEN); // the reload
    expect(linkToken("other", "", store, () => cleared++)).toBeNull();
    expect(cleared).toBe(1);
  });

  it("parses and builds share URLs", () => {
    expect(tokenFromHash("#k=e1.abc-_")).toBe("e1.abc-_");
    expect(tokenFromHash("#x=1&k=e1.abc")).toBe("e1.abc");
    expect(tokenFromHash("#kk=e1.abc")).toBeNull();
    expect(tokenFromHash("#k=")).toBeNull();
    expect(tokenFromHash("")).toBeNull();
    expect(shareUrl("https://c.example", "notes", "e1.abc")).toBe("https://c.example/d/notes#k=e1.abc");
  });
});
