// Pages sharing a clientId: the page's `instance` in every hello, and `client_id_in_use` on join — retried when no
// live tab claims the clientId (our own stale session), a new clientId when one does — without losing or
// duplicating an edit. Pages share one localStorage (DocStore) and talk over fake BroadcastChannels, in fake time.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CollabConnection } from "../../src/client/connection";
import { DocSession, type EditorHost } from "../../src/client/docSession";
import { DocStore, type KeyValueStore } from "../../src/client/persistence";
import { TabIdentity } from "../../src/client/tabIdentity";
import { TextOperation } from "../../src/client/textOperation";
import { FakeHub, MemoryStorage } from "./fakeHub";
import { FakeTabs, type FakeChannel } from "./fakeTabs";
import { seedMathRandom, until, useFakeTime } from "./random";

class FakeEditor implements EditorHost {
  text = "";
  applyRemote(op: TextOperation): void { this.text = op.apply(this.text); }
  setCursors(): void {}
}

class MemoryStore implements KeyValueStore {
  private readonly map = new Map<string, string>();
  getItem(k: string) { return this.map.get(k) ?? null; }
  setItem(k: string, v: string) { this.map.set(k, v); }
  removeItem(k: string) { this.map.delete(k); }
  get length() { return this.map.size; }
  key(i: number) { return [...this.map.keys()][i] ?? null; }
}

let fresh = 0;

/** One editor page as editor.ts wires it: TabIdentity as the guard, a DocSession on "d", a store shared by pages. */
function page(hub: FakeHub, tabs: FakeTabs, store: DocStore, clientId: string, instance?: string) {
  const channel: FakeChannel = tabs.open();
  const identity = new TabIdentity(channel, clientId, { waitMs: 200 });
  const connection = new CollabConnection({
    url: "ws://host/ws", clientId, guard: identity, webSocket: hub.webSocket, backoff: { baseMs: 1, maxMs: 5 },
    helloTimeoutMs: 100, transportStore: new MemoryStorage(), newClientId: () => `tab-new${++fresh}`,
    ...(instance ? { instance } : {}),
  });
  identity.onAskedLate = () => connection.clientIdAsked();
  connection.onClientId((id) => { identity.clientId = id; });
  const session = new DocSession({ doc: "d", connection, store });
  const editor = new FakeEditor();
  editor.text = session.initialText() ?? "";
  session.attach(editor);
  const type = (text: string) => {
    const op = new TextOperation().retain(editor.text.length).insert(text);
    editor.text = op.apply(editor.text);
    session.localChange(op);
  };
  return { channel, identity, connection, session, editor, type };
}
type Page = ReturnType<typeof page>;

const frames = (hub: FakeHub, type: string) => hub.received.filter((r) => r.frame.type === type);
const synced = (...pages: Page[]) => () =>
  pages.every((p) => p.session.statusInfo().status === "connected" && p.session.unsentEdits() === 0 && p.session.client?.rev === pages[0]!.session.client?.rev);
const count = (text: string, piece: string) => text.split(piece).length - 1;

describe("pages sharing a clientId", () => {
  beforeEach(() => { useFakeTime(); seedMathRandom(1); });
  afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });

  it("sends the page's instance in every hello, unchanged across reconnects; another page sends another", async () => {
    const hub = new FakeHub();
    const tabs = new FakeTabs();
    const a = page(hub, tabs, new DocStore(new MemoryStore()), "tab-a");
    a.connection.start();
    await until(synced(a), "the first join");
    for (let i = 0; i < 2; i++) {
      hub.closeSessions(1006, "dropped");
      await until(() => frames(hub, "hello").length === i + 2 && synced(a)(), "a reconnect");
    }
    a.connection.setUser({ name: "Ada" }); // a new socket for a new name: still the same page
    await until(() => frames(hub, "hello").length === 4 && synced(a)(), "the reconnect for the name");
    const instances = frames(hub, "hello").map((h) => h.frame.instance);
    expect(instances).toHaveLength(4);
    expect(new Set(instances).size).toBe(1);
    expect(instances[0]).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(instances[0]).toBe(a.connection.instance);

    const b = page(hub, tabs, new DocStore(new MemoryStore()), "tab-b");
    b.connection.start();
    await until(synced(b), "the other page's join");
    expect(frames(hub, "hello").at(-1)!.frame.instance).not.toBe(instances[0]);
    const given = page(hub, tabs, new DocStore(new MemoryStore()), "tab-c", "page_1-X");
    given.connection.start();
    await until(synced(given), "the third page's join");
    expect(frames(hub, "hello").at(-1)!.frame).toMatchObject({ clientId: "tab-c", instance: "page_1-X" });
    for (const p of [a, b, given]) p.connection.stop();
  });

  it("client_id_in_use with no live tab claiming the id: keeps it, retries the join after retryAfterMs with backoff, loses nothing", async () => {
    const hub = new FakeHub();
    hub.retryAfterMs = 100;
    const a = page(hub, new FakeTabs(), new DocStore(new MemoryStore()), "tab-a");
    a.connection.start();
    a.session.onReady(() => a.type("one"));
    await until(() => synced(a)() && hub.doc.text === "one", "the first edit");

    hub.refuseJoins = 3; // our own session from the dropped connection, not yet noticed by the server
    hub.closeSessions(1006, "dropped");
    await until(() => frames(hub, "join").length === 2, "the refused join");
    a.type(" two");
    expect(a.session.statusInfo().status).toBe("reconnecting");
    await until(() => synced(a)() && hub.doc.text === "one two", "the join once the stale session is gone", 10_000);

    const joins = frames(hub, "join").slice(1);
    expect(joins).toHaveLength(4);
    const gaps = joins.slice(1).map((j, i) => j.at - joins[i]!.at);
    // Each retry waits for the tabs' answer (200 ms) or retryAfterMs·2^k, whichever ends later: never sooner than asked.
    expect(gaps[0]).toBeGreaterThanOrEqual(200);
    expect(gaps[1]).toBeGreaterThanOrEqual(200);
    expect(gaps[2]).toBeGreaterThanOrEqual(400);
    expect(a.connection.clientId).toBe("tab-a");
    expect(frames(hub, "hello").map((h) => h.frame.clientId)).toEqual(["tab-a", "tab-a"]);
    expect(a.editor.text).toBe("one two");
    expect(hub.doc.log).toHaveLength(2);
    a.connection.stop();
  });

  it("keeps retrying for as long as the server refuses (bounded backoff, never giving up)", async () => {
    const hub = new FakeHub();
    hub.retryAfterMs = 1000;
    hub.refuseJoins = 1_000_000;
    const a = page(hub, new FakeTabs(), new DocStore(new MemoryStore()), "tab-a");
    a.connection.start();
    await vi.advanceTimersByTimeAsync(120_000);
    const joins = frames(hub, "join");
    const gaps = joins.slice(1).map((j, i) => j.at - joins[i]!.at);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(15_000 + 20);
    expect(joins.length).toBeGreaterThan(8);
    expect(a.session.statusInfo().status).toBe("reconnecting");
    hub.refuseJoins = 0;
    await until(synced(a), "the join once allowed", 20_000);
    a.connection.stop();
  });

  it("a copy not told apart at load, refused, takes a new clientId when the original answers: the original's outbox stays the original's", async () => {
    const hub = new FakeHub();
    hub.retryAfterMs = 100;
    const tabs = new FakeTabs();
    const store = new DocStore(new MemoryStore());
    const original = page(hub, tabs, store, "tab-x");
    original.connection.start();
    original.session.onReady(() => original.type("A1 "));
    await until(() => synced(original)() && hub.doc.text === "A1 ", "the original's first edit");
    original.connection.goOffline();
    original.type("A2 "); // unsent: in the original's outbox in localStorage, under tab-x (outstanding, then buffer)
    original.type("B2 ");
    await Promise.resolve();

    // The copy starts while the original is frozen: nobody answers, so it keeps tab-x and restores its outbox.
    original.channel.freeze();
    const copy = page(hub, tabs, store, "tab-x");
    let claimed: boolean | null = null;
    void copy.identity.claimedElsewhere().then((c) => { claimed = c; });
    await until(() => claimed !== null, "the copy's question");
    expect(claimed).toBe(false);
    expect(copy.editor.text).toBe("A1 A2 B2 ");
    hub.refuseJoins = 1_000_000; // the server still holds a session for tab-x (the frozen original's)
    copy.connection.start();
    await until(() => frames(hub, "join").length >= 2, "the copy's refused join");
    copy.type("C1 ");
    expect(copy.session.statusInfo().status).toBe("reconnecting");

    // The original wakes up and answers the copy's next question; the server's stale session is gone.
    original.channel.thaw();
    hub.refuseJoins = 0;
    hub.oneSessionPerClientId = true;
    await until(() => copy.connection.clientId !== "tab-x", "the copy to take a new clientId", 5_000);
    original.connection.goOnline();
    await until(() => synced(original, copy)() && original.editor.text === copy.editor.text && hub.doc.rev >= 4, "both to converge", 10_000);

    expect(original.connection.clientId).toBe("tab-x");
    expect(copy.identity.clientId).toBe(copy.connection.clientId);
    for (const piece of ["A1 ", "A2 ", "B2 ", "C1 "]) expect(count(hub.doc.text, piece)).toBe(1);
    expect(original.editor.text).toBe(hub.doc.text);
    expect(copy.editor.text).toBe(hub.doc.text);
    const copyHellos = frames(hub, "hello").filter((h) => h.frame.instance === copy.connection.instance);
    expect(copyHellos.at(-1)!.frame.clientId).toBe(copy.connection.clientId);
    expect(hub.doc.log.filter((c) => c.clientId === copy.connection.clientId)).toHaveLength(1); // only C1, under the new id
    original.connection.stop(); copy.connection.stop();
  });

  it("an original that was frozen while a copy took its clientId re-keys when refused: what the copy restored is not sent twice, what it typed since is sent", async () => {
    const hub = new FakeHub();
    hub.oneSessionPerClientId = true;
    const tabs = new FakeTabs();
    const store = new DocStore(new MemoryStore());
    const original = page(hub, tabs, store, "tab-x");
    original.connection.start();
    original.session.onReady(() => original.type("A1 "));
    await until(() => synced(original)() && hub.doc.text === "A1 ", "the original's first edit");
    original.connection.goOffline();
    original.type("A2 ");
    await Promise.resolve();
    original.channel.freeze();

    const copy = page(hub, tabs, store, "tab-x");
    let claimed: boolean | null = null;
    void copy.identity.claimedElsewhere().then((c) => { claimed = c; });
    await until(() => claimed !== null, "the copy's question");
    expect(claimed).toBe(false);
    copy.connection.start();
    await until(() => synced(copy)() && hub.doc.text === "A1 A2 ", "the copy to send the restored outbox under tab-x");
    copy.type("C1 ");
    await until(() => synced(copy)() && hub.doc.text === "A1 A2 C1 ", "the copy's edit");

    original.channel.thaw(); // the copy's question arrives late
    await vi.advanceTimersByTimeAsync(1);
    original.type("A3 "); // typed after waking, still offline: the original's own
    original.connection.goOnline();
    await until(() => original.connection.clientId !== "tab-x", "the original to take a new clientId", 5_000);
    await until(() => synced(original, copy)() && original.editor.text === copy.editor.text && hub.doc.text.includes("A3 "), "both to converge", 10_000);

    expect(copy.connection.clientId).toBe("tab-x");
    for (const piece of ["A1 ", "A2 ", "C1 ", "A3 "]) expect(count(hub.doc.text, piece)).toBe(1);
    expect(original.editor.text).toBe(hub.doc.text);
    original.connection.stop(); copy.connection.stop();
  });
});
