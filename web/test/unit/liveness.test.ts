// Liveness: a hung front end (socket open, nothing answered) is left within about 4 s; a slow document (a join that
// waits) is not mistaken for one, because live pings are answered apart from the frames before them; and a timer
// throttled like a hidden tab's does not drop a healthy connection.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CollabConnection } from "../../src/client/connection";
import { FakeHub, MemoryStorage } from "./fakeHub";
import { seedMathRandom, until, useFakeTime } from "./random";

describe("CollabConnection liveness", () => {
  beforeEach(() => { useFakeTime(); seedMathRandom(1); });
  afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });

  function connect(hub: FakeHub, sse = false) {
    const store = new MemoryStorage();
    if (sse) store.setItem("collab.transport", JSON.stringify({ mode: "sse", sseConnects: 0 }));
    const connection = new CollabConnection({
      url: "ws://host/ws", sseUrl: "http://host/sse", clientId: "c", transportStore: store, fetch: hub.fetch,
      webSocket: hub.webSocket, backoff: { baseMs: 300, maxMs: 8000 },
    });
    connection.start();
    return connection;
  }
  const livePings = (hub: FakeHub) => hub.received.filter((r) => r.frame.type === "ping" && r.frame.live === true);

  for (const sse of [false, true]) {
    it(`leaves a front end that hangs within 4 s and is welcomed by another (${sse ? "fallback" : "WebSocket"})`, async () => {
      const hub = new FakeHub();
      const connection = connect(hub, sse);
      await until(() => connection.status === "connected", "connected");
      expect(connection.transportKind).toBe(sse ? "sse" : "websocket");
      await vi.advanceTimersByTimeAsync(5000); // settled: pings answered, no reconnects
      const welcomes = () => hub.received.filter((r) => r.frame.type === "hello").length;
      expect(welcomes()).toBe(1);
      expect(livePings(hub).length).toBeGreaterThanOrEqual(3);

      hub.freeze();
      const frozenAt = Date.now();
      await until(() => welcomes() === 2 && connection.status === "connected", "a new session", 10_000);
      const moved = Date.now() - frozenAt;
      // 1 s of silence, a 2 s unanswered ping (checked every 250 ms), the 300 ms reconnect delay.
      expect(moved).toBeLessThanOrEqual(4000);
      expect(moved).toBeGreaterThanOrEqual(2000);
      connection.stop();
    });
  }

  it("does not drop a healthy front end whose join waits for 20 s", async () => {
    const hub = new FakeHub();
    hub.holdJoins = true;
    const connection = connect(hub);
    connection.register("d", { opened: () => connection.send({ type: "join", doc: "d" }), frame: () => {}, closed: () => {} });
    await until(() => connection.status === "connected", "connected");
    await vi.advanceTimersByTimeAsync(20_000);
    expect(hub.received.filter((r) => r.frame.type === "join")).toHaveLength(1);
    expect(hub.received.filter((r) => r.frame.type === "hello")).toHaveLength(1);
    expect(livePings(hub).length).toBeGreaterThanOrEqual(15);
    hub.holdJoins = false;
    connection.stop();
  });

  it("sends a live ping at least every heartbeatMs even while frames keep arriving", async () => {
    const hub = new FakeHub();
    hub.heartbeatMs = 3000;
    const connection = connect(hub);
    await until(() => connection.status === "connected", "connected");
    // Frames every 200 ms: never 1 s of silence.
    const chatter = setInterval(() => { for (const s of hub.sessions) s.send({ type: "pong" }); }, 200);
    const before = livePings(hub).length;
    await vi.advanceTimersByTimeAsync(9_500);
    clearInterval(chatter);
    expect(livePings(hub).length - before).toBeGreaterThanOrEqual(3);
    expect(livePings(hub).length - before).toBeLessThanOrEqual(4);
    connection.stop();
  });

  it("a timer that sleeps a minute (a hidden tab) does not drop a connection that answers", async () => {
    const hub = new FakeHub();
    const connection = connect(hub);
    await until(() => connection.status === "connected", "connected");
    // Throttle: every interval callback runs at most once a minute from now on.
    const realSetInterval = globalThis.setInterval;
    connection.stop();
    vi.spyOn(globalThis, "setInterval").mockImplementation(((fn: () => void, _ms?: number) => realSetInterval(fn, 60_000)) as typeof setInterval);
    const throttled = connect(hub);
    await until(() => throttled.status === "connected", "connected");
    const hellos = hub.received.filter((r) => r.frame.type === "hello").length;
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(hub.received.filter((r) => r.frame.type === "hello").length).toBe(hellos);
    expect(livePings(hub).length).toBeGreaterThanOrEqual(4);
    throttled.stop();
  });
});
