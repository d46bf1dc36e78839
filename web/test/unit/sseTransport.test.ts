// The SSE+POST transport against a fake fetch: event-stream parsing, one POST in flight with the rest queued in
// order, 404 → reconnect and resume, the server's close event, a silent stream, failures before the stream opens.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CollabConnection } from "../../src/client/connection";
import { DocSession, type EditorHost } from "../../src/client/docSession";
import { SSE_DROPPED, SSE_SESSION_GONE, SSE_SILENT, SseParser, SseTransport, type TransportClose, type TransportEvents } from "../../src/client/transport";
import { TextOperation } from "../../src/client/textOperation";
import { FakeHub, MemoryStorage } from "./fakeHub";

import { seedMathRandom, until as untilFor, useFakeTime } from "./random";

const until = (check: () => boolean, what: string, ms = 2000) => untilFor(check, what, ms);

function recorder() {
  const log = { opened: 0, messages: [] as string[], alive: 0, closes: [] as TransportClose[] };
  const events: TransportEvents = {
    open: () => log.opened++,
    message: (data) => log.messages.push(data),
    alive: () => log.alive++,
    close: (info) => log.closes.push(info),
  };
  return { log, events };
}

describe("SseParser", () => {
  const parse = (chunks: string[]) => {
    const events: [string, string][] = [];
    const comments: string[] = [];
    const parser = new SseParser((data, type) => events.push([data, type]), (c) => comments.push(c));
    for (const c of chunks) parser.feed(c);
    return { events, comments };
  };

  it("splits events on blank lines whatever the line ending, joins data lines, strips one space and a BOM", () => {
    const { events, comments } = parse(["\ufeffdata: {\"a\":1}\n\n: ping\n\ndata:x\r\ndata:  y\r\n\r\nevent: close\rdata: z\r\r"]);
    expect(events).toEqual([['{"a":1}', "message"], ["x\n y", "message"], ["z", "close"]]);
    expect(comments).toEqual(["ping"]);
  });

  it("gives the same events however the bytes are chunked, including a CRLF split in two", () => {
    const text = 'data: {"type":"welcome"}\r\n\r\n: ping\r\n\r\ndata: {"type":"op","op":["é😀"]}\r\n\r\n';
    const whole = parse([text]);
    for (let cut = 1; cut < text.length; cut++) expect(parse([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    expect(parse([...text])).toEqual(whole);
    expect(whole.events).toHaveLength(2);
  });

  it("dispatches nothing for an event without its blank line, or a blank line without data", () => {
    expect(parse(["\n\nid: 3\n\ndata: half"]).events).toEqual([]);
  });
});

describe("SseTransport", () => {
  // Fake time: the watchdog and every wait below; the fake fetch and its streams settle in microtasks.
  beforeEach(() => useFakeTime());
  afterEach(() => vi.useRealTimers());

  it("opens on the transport event, posts to its postUrl, passes frames and reports heartbeat comments", async () => {
    const hub = new FakeHub();
    const { log, events } = recorder();
    const t = new SseTransport({ url: "http://host/sse", fetch: hub.fetch }, events);
    await until(() => log.opened === 1, "open");
    expect(t.postUrl).toBe("http://host/sse");
    expect(t.session).toBe("t1");
    expect(t.heartbeatMs).toBe(60_000);
    t.send(JSON.stringify({ type: "hello", clientId: "c1" }));
    await until(() => log.messages.length === 1, "welcome");
    expect(JSON.parse(log.messages[0]!)).toMatchObject({ type: "welcome" });
    const post = hub.requests.find((r) => r.method === "POST")!;
    expect(post).toMatchObject({ url: "/sse", session: "t1", body: '{"type":"hello","clientId":"c1"}', status: 202 });
    const alive = log.alive;
    hub.writeAll(": ping\n\n");
    await until(() => log.alive > alive, "the comment");
    t.close();
    expect(log.closes).toEqual([]);
  });

  it("sends the session token only in the Collab-Session header: no request URL carries it", async () => {
    const hub = new FakeHub();
    const { log, events } = recorder();
    const t = new SseTransport({ url: "http://host/sse", fetch: hub.fetch }, events);
    await until(() => log.opened === 1, "open");
    for (let i = 1; i <= 3; i++) t.send(`{"type":"ping","t":${i}}`);
    await until(() => log.messages.length === 3, "three pongs");
    const token = t.session!;
    expect(token).toBe("t1");
    expect(hub.requests.length).toBeGreaterThanOrEqual(2);
    for (const r of hub.requests) expect(r.fullUrl).not.toContain(token);
    expect(hub.requests.filter((r) => r.method === "POST").every((r) => r.session === token)).toBe(true);
    t.close();
  });

  it("fails to open on a transport event without a session token", async () => {
    const { log, events } = recorder();
    const encoder = new TextEncoder();
    const fetchWithout: typeof fetch = async () => new Response(new ReadableStream<Uint8Array>({
      start: (c) => c.enqueue(encoder.encode(`data: ${JSON.stringify({ type: "transport", transport: "sse", postUrl: "/sse", heartbeatMs: 1000 })}\n\n`)),
    }), { status: 200, headers: { "content-type": "text/event-stream" } });
    new SseTransport({ url: "http://host/sse", fetch: fetchWithout }, events);
    await until(() => log.closes.length === 1, "the failure");
    expect(log.closes[0]).toMatchObject({ code: SSE_DROPPED, opened: false });
  });

  it("keeps one POST in flight and sends the frames queued meanwhile together, in order", async () => {
    const hub = new FakeHub();
    const { log, events } = recorder();
    const t = new SseTransport({ url: "http://host/sse", fetch: hub.fetch }, events);
    await until(() => log.opened === 1, "open");
    hub.holdPosts = true;
    t.send('{"type":"ping","t":1}');
    for (let i = 2; i <= 5; i++) t.send(`{"type":"ping","t":${i}}`);
    await vi.advanceTimersByTimeAsync(10); // at fake time +10 ms the first POST is still held
    expect(hub.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(t.queue).toHaveLength(4);
    hub.holdPosts = false;
    hub.releasePosts();
    await until(() => log.messages.length === 5, "five pongs");
    const posts = hub.requests.filter((r) => r.method === "POST").map((r) => r.body);
    expect(posts).toEqual(['{"type":"ping","t":1}', '{"type":"ping","t":2}\n{"type":"ping","t":3}\n{"type":"ping","t":4}\n{"type":"ping","t":5}']);
    expect(log.messages.map((m) => JSON.parse(m).t)).toEqual([1, 2, 3, 4, 5]);
    t.close();
  });

  it("splits a queue into POSTs of at most maxBatchBytes (a single bigger frame still goes alone)", async () => {
    const hub = new FakeHub();
    const { log, events } = recorder();
    const t = new SseTransport({ url: "http://host/sse", fetch: hub.fetch, maxBatchBytes: 50 }, events);
    await until(() => log.opened === 1, "open");
    hub.holdPosts = true;
    t.send('{"type":"ping"}');
    t.send(`{"type":"ping","t":"${"é".repeat(20)}"}`); // 52 bytes in UTF-8
    t.send('{"type":"ping","t":1}');
    t.send('{"type":"ping","t":2}');
    hub.holdPosts = false;
    hub.releasePosts();
    await until(() => log.messages.length === 4, "four pongs");
    expect(hub.requests.filter((r) => r.method === "POST").map((r) => r.body!.split("\n").length)).toEqual([1, 1, 2]);
    t.close();
  });

  it("ends with SSE_SESSION_GONE on a 404, 1009 on a 413, and drops what was queued", async () => {
    for (const [status, code] of [[404, SSE_SESSION_GONE], [413, 1009], [500, SSE_DROPPED]] as const) {
      const hub = new FakeHub();
      const { log, events } = recorder();
      const t = new SseTransport({ url: "http://host/sse", fetch: hub.fetch }, events);
      await until(() => log.opened === 1, "open");
      hub.postStatuses = [status];
      hub.holdPosts = true;
      t.send('{"type":"ping"}');
      t.send('{"type":"ping","t":2}');
      hub.holdPosts = false;
      hub.releasePosts();
      await until(() => log.closes.length === 1, `close after ${status}`);
      expect(log.closes[0]).toMatchObject({ code, opened: true });
      expect(t.queue).toEqual([]);
      await vi.advanceTimersByTimeAsync(5); // 5 fake ms after the close: nothing more was posted
      expect(hub.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    }
  });

  it("ends with the code and reason of the server's close event", async () => {
    const hub = new FakeHub();
    const { log, events } = recorder();
    new SseTransport({ url: "http://host/sse", fetch: hub.fetch }, events);
    await until(() => log.opened === 1, "open");
    hub.closeStreams(4409, "send queue overflow");
    await until(() => log.closes.length === 1, "close");
    expect(log.closes).toEqual([{ code: 4409, reason: "send queue overflow", opened: true }]);
    expect(log.messages).toEqual([]);
  });

  it("reports a failure before opening: no server, a non-stream answer, or a first event that is not 'transport'", async () => {
    const down = new FakeHub();
    down.sseUp = false;
    const a = recorder();
    new SseTransport({ url: "http://host/sse", fetch: down.fetch }, a.events);
    await until(() => a.log.closes.length === 1, "close");
    expect(a.log.closes[0]).toMatchObject({ code: SSE_DROPPED, opened: false });

    const b = recorder();
    new SseTransport({ url: "http://host/sse", fetch: async () => new Response("<html>", { status: 200, headers: { "content-type": "text/html" } }) }, b.events);
    await until(() => b.log.closes.length === 1, "close");
    expect(b.log.closes[0]).toMatchObject({ opened: false });

    const c = recorder();
    new SseTransport({ url: "http://host/sse", fetch: async () => new Response('data: {"type":"welcome"}\n\n', { headers: { "content-type": "text/event-stream" } }) }, c.events);
    await until(() => c.log.closes.length === 1, "close");
    expect(c.log.closes[0]).toMatchObject({ opened: false });
    expect(c.log.opened).toBe(0);
  });

  it("treats a stream without any event or comment for 2.5 heartbeats as dead", async () => {
    const hub = new FakeHub();
    hub.heartbeatMs = 1000;
    const { log, events } = recorder();
    new SseTransport({ url: "http://host/sse", fetch: hub.fetch }, events);
    await until(() => log.opened === 1, "open");
    await vi.advanceTimersByTimeAsync(2000);
    hub.writeAll(": ping\n\n"); // a comment keeps it alive
    await vi.advanceTimersByTimeAsync(0); // the comment is read without any time passing
    expect(log.alive).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(2000);
    expect(log.closes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(log.closes).toEqual([{ code: SSE_SILENT, reason: "no event for 2500 ms", opened: true }]);
  });
});

describe("CollabConnection over SSE", () => {
  // Fake time: heartbeats, resume backoff (its jitter from a seeded Math.random) and every wait below.
  beforeEach(() => { useFakeTime(); seedMathRandom(1); });
  afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });

  class Editor implements EditorHost {
    text = "";
    applyRemote(op: TextOperation): void { this.text = op.apply(this.text); }
    setCursors(): void {}
  }

  function sseClient(hub: FakeHub, id: string) {
    const store = new MemoryStorage();
    store.setItem("collab.transport", JSON.stringify({ mode: "sse", sseConnects: 0 }));
    const connection = new CollabConnection({
      url: "ws://host/ws", sseUrl: "http://host/sse", clientId: id, transportStore: store, fetch: hub.fetch,
      webSocket: hub.webSocket, backoff: { baseMs: 1, maxMs: 5 }, retryWebSocketEvery: 1000,
    });
    const session = new DocSession({ doc: "d", connection });
    const editor = new Editor();
    session.attach(editor);
    connection.start();
    const type = (text: string) => {
      const op = new TextOperation().retain(editor.text.length).insert(text);
      editor.text = op.apply(editor.text);
      session.localChange(op);
    };
    return { connection, session, editor, type };
  }

  const synced = (hub: FakeHub, ...cs: ReturnType<typeof sseClient>[]) => () =>
    cs.every((c) => c.session.statusInfo().status === "connected" && c.session.unsentEdits() === 0 && c.editor.text === hub.doc.text);

  it("edits over SSE: hello first by POST, then join; both clients converge", async () => {
    const hub = new FakeHub();
    const a = sseClient(hub, "a"), b = sseClient(hub, "b");
    await until(synced(hub, a, b), "connected");
    expect(a.connection.transport).toBe("HTTP streaming (fallback)");
    expect(hub.received.filter((r) => r.via === "sse").slice(0, 2).map((r) => r.frame.type)).toEqual(["hello", "hello"]);
    for (let i = 0; i < 10; i++) { a.type(`a${i}`); b.type(`b${i}`); }
    await until(synced(hub, a, b), "converged");
    expect(hub.doc.text).toHaveLength(40);
    expect(hub.wsAttempts).toEqual([]);
    a.connection.stop(); b.connection.stop();
  });

  it("a 404 on a POST (session expired or another front end) reopens the stream and resumes with join+rev and the same seq", async () => {
    const hub = new FakeHub();
    const a = sseClient(hub, "a");
    await until(synced(hub, a), "connected");
    a.type("one ");
    await until(synced(hub, a), "acked");
    const streams = hub.requests.filter((r) => r.method === "GET").length;
    hub.forgetSseSessions();
    a.type("two ");
    await until(synced(hub, a), "resumed");
    expect(hub.requests.filter((r) => r.method === "GET").length).toBe(streams + 1);
    expect(hub.requests.some((r) => r.status === 404)).toBe(true);
    const joins = hub.received.filter((r) => r.frame.type === "join").map((r) => r.frame);
    expect(joins.at(-1)).toEqual({ type: "join", doc: "d", rev: 1 });
    const ops = hub.received.filter((r) => r.frame.type === "op").map((r) => r.frame.seq);
    expect(ops).toEqual([1, 2]); // "two " went out once the new session was welcomed, with seq 2
    expect(hub.doc.text).toBe("one two ");
    a.connection.stop();
  });

  it("a close event from the server (4409) leads to an immediate resume", async () => {
    const hub = new FakeHub();
    const a = sseClient(hub, "a");
    await until(synced(hub, a), "connected");
    const welcomes = () => hub.received.filter((r) => r.frame.type === "hello").length;
    expect(welcomes()).toBe(1);
    hub.closeStreams(4409, "send queue overflow");
    await until(() => welcomes() === 2, "a new session");
    expect(hub.requests.filter((r) => r.method === "GET")).toHaveLength(2);
    a.type("after");
    await until(synced(hub, a), "resumed");
    expect(hub.doc.text).toBe("after");
    a.connection.stop();
  });

  it("sends a ping by POST every heartbeatMs", async () => {
    const hub = new FakeHub();
    hub.heartbeatMs = 1000; // the connection's floor
    const a = sseClient(hub, "a");
    await until(synced(hub, a), "connected");
    const pings = () => hub.received.filter((r) => r.frame.type === "ping").length;
    const before = pings();
    await vi.advanceTimersByTimeAsync(2600);
    expect(pings() - before).toBeGreaterThanOrEqual(2);
    a.connection.stop();
  });
});
