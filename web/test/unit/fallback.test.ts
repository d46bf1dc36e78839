// The fallback decision: WebSocket first, SSE when the WebSocket cannot be established or stays silent after
// hello, the choice kept for the tab, the WebSocket tried again every 5th connection, a dead server proving nothing.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CollabConnection } from "../../src/client/connection";
import { TRANSPORT_KEY, TransportPolicy } from "../../src/client/transportPolicy";
import { FakeHub, MemoryStorage, type WsBehaviour } from "./fakeHub";

import { seedMathRandom, until, useFakeTime } from "./random";

describe("TransportPolicy", () => {
  it("starts on WebSocket, falls back to SSE, and remembers SSE for the tab once it is welcomed", () => {
    const store = new MemoryStorage();
    const policy = new TransportPolicy({ store, fallback: true });
    expect(policy.next()).toBe("websocket");
    expect(policy.webSocketFailed()).toBe("sse");
    expect(store.getItem(TRANSPORT_KEY)).toBeNull(); // a failed WebSocket alone proves nothing
    policy.welcomed("sse");
    expect(new TransportPolicy({ store, fallback: true }).mode).toBe("sse");
  });

  it("on SSE, tries the WebSocket on every 5th connection, and goes back to it when it is welcomed", () => {
    const store = new MemoryStorage();
    const policy = new TransportPolicy({ store, fallback: true });
    policy.welcomed("sse");
    const picks = Array.from({ length: 10 }, () => policy.next());
    expect(picks).toEqual(["sse", "sse", "sse", "sse", "websocket", "sse", "sse", "sse", "sse", "websocket"]);
    // The count survives a reload (it lives in sessionStorage with the choice).
    const reloaded = new TransportPolicy({ store, fallback: true });
    expect([1, 2, 3, 4, 5].map(() => reloaded.next())).toEqual(["sse", "sse", "sse", "sse", "websocket"]);
    reloaded.welcomed("websocket");
    expect(new TransportPolicy({ store, fallback: true }).next()).toBe("websocket");
  });

  it("without a fallback URL is WebSocket only; unreadable storage starts over", () => {
    const store = new MemoryStorage();
    store.setItem(TRANSPORT_KEY, JSON.stringify({ mode: "sse", sseConnects: 0 }));
    const none = new TransportPolicy({ store, fallback: false });
    expect(none.next()).toBe("websocket");
    expect(none.webSocketFailed()).toBeNull();
    store.setItem(TRANSPORT_KEY, "{not json");
    expect(new TransportPolicy({ store, fallback: true }).mode).toBe("websocket");
  });
});

describe("CollabConnection fallback", () => {
  // Fake time: the hello timeout, backoff and the fake sockets' delays are logic; the reconnect jitter is seeded.
  beforeEach(() => { useFakeTime(); seedMathRandom(1); });
  afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });

  function connect(hub: FakeHub, store = new MemoryStorage(), helloTimeoutMs = 100) {
    const connection = new CollabConnection({
      url: "ws://host/ws", sseUrl: "http://host/sse", clientId: "c", transportStore: store, fetch: hub.fetch,
      webSocket: hub.webSocket, backoff: { baseMs: 1, maxMs: 5 }, helloTimeoutMs,
    });
    const statuses: string[] = [];
    connection.onStatus(() => statuses.push(`${connection.status}:${connection.transport}`));
    connection.start();
    return { connection, store, statuses };
  }
  const welcomed = (c: CollabConnection) => () => c.status === "connected";

  it("stays on the WebSocket when it works", async () => {
    const hub = new FakeHub();
    const { connection, store } = connect(hub);
    await until(welcomed(connection), "welcome");
    expect(connection.transport).toBe("WebSocket");
    expect(hub.requests).toEqual([]);
    expect(store.getItem(TRANSPORT_KEY)).toBeNull();
    connection.stop();
  });

  it.each<[WsBehaviour, string]>([
    ["fail", "the WebSocket fails before it opens (a 400/403 handshake, a proxy without Upgrade)"],
    ["refuse-after-open", "the WebSocket closes before any frame"],
    ["silent", "the WebSocket opens but no frame answers hello (a buffering proxy)"],
  ])("falls back to SSE at once when %s: %s", async (behaviour) => {
    const hub = new FakeHub();
    hub.ws = behaviour;
    const started = Date.now(); // fake time, so the bound below is exact, not a race
    const { connection, store, statuses } = connect(hub);
    await until(welcomed(connection), "welcome over SSE");
    expect(Date.now() - started).toBeLessThan(behaviour === "silent" ? 2000 : 1000);
    expect(connection.transport).toBe("HTTP streaming (fallback)");
    expect(connection.transportKind).toBe("sse");
    expect(connection.attempt).toBe(0);
    expect(statuses.at(-1)).toBe("connected:HTTP streaming (fallback)");
    expect(JSON.parse(store.getItem(TRANSPORT_KEY)!)).toMatchObject({ mode: "sse" });
    expect(hub.wsAttempts).toEqual([behaviour]);
    connection.stop();
  });

  it("a reloaded tab starts on SSE, and on its 5th connection returns to a WebSocket that works again", async () => {
    const hub = new FakeHub();
    hub.ws = "fail";
    const first = connect(hub);
    await until(welcomed(first.connection), "welcome over SSE");
    first.connection.stop();

    const again = connect(hub, first.store);
    await until(welcomed(again.connection), "welcome after reload");
    expect(again.connection.transportKind).toBe("sse");
    expect(hub.wsAttempts).toEqual(["fail"]); // the reload did not try the WebSocket again
    hub.ws = "ok"; // the network is fixed
    for (let i = 0; i < 3; i++) {
      again.connection.goOffline();
      again.connection.goOnline();
      await until(welcomed(again.connection), `reconnect ${i}`);
      expect(again.connection.transportKind).toBe("sse");
    }
    again.connection.goOffline();
    again.connection.goOnline();
    await until(welcomed(again.connection), "reconnect over WebSocket");
    expect(again.connection.transport).toBe("WebSocket");
    expect(JSON.parse(again.store.getItem(TRANSPORT_KEY)!)).toMatchObject({ mode: "websocket" });
    again.connection.stop();
  });

  it("a WebSocket that fails again on the 5th try falls back to SSE at once, without waiting", async () => {
    const hub = new FakeHub();
    const store = new MemoryStorage();
    store.setItem(TRANSPORT_KEY, JSON.stringify({ mode: "sse", sseConnects: 4 }));
    hub.ws = "fail";
    const { connection } = connect(hub, store);
    await until(welcomed(connection), "welcome");
    expect(hub.wsAttempts).toEqual(["fail"]);
    expect(connection.transportKind).toBe("sse");
    connection.stop();
  });

  it("a server that is down fails both transports: backoff, the choice unchanged, WebSocket first when it is back", async () => {
    const hub = new FakeHub();
    hub.ws = "fail";
    hub.sseUp = false;
    const { connection, store } = connect(hub);
    await until(() => hub.wsAttempts.length >= 3, "a few attempts");
    expect(connection.status).toBe("reconnecting");
    expect(connection.attempt).toBeGreaterThanOrEqual(2);
    expect(store.getItem(TRANSPORT_KEY)).toBeNull();
    // Every attempt tried the WebSocket first, then SSE right after it.
    const gets = hub.requests.filter((r) => r.method === "GET").length;
    expect(Math.abs(gets - hub.wsAttempts.length)).toBeLessThanOrEqual(1);
    // The server comes back. (SSE only after the next WebSocket attempt: an attempt whose WebSocket had already
    // failed would otherwise be welcomed over SSE, and rightly so.)
    hub.ws = "ok";
    await until(() => hub.wsAttempts.includes("ok"), "a WebSocket attempt");
    hub.sseUp = true;
    await until(welcomed(connection), "welcome");
    expect(connection.transport).toBe("WebSocket");
    connection.stop();
  });
});
