// DocSession over CollabConnection against an in-memory collab.v1 server (SimDocument), with sockets that drop
// at random: resume with join+rev, own op recognised in joined.ops, resend with the original seq, full-text joins.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CollabConnection } from "../../src/client/connection";
import { WebSocketTransport } from "../../src/client/transport";
import { DocSession, type EditorHost } from "../../src/client/docSession";
import { DocStore, type KeyValueStore } from "../../src/client/persistence";
import { TextOperation } from "../../src/client/textOperation";
import { seeded, seeds, seedMathRandom, until, useFakeTime } from "./random";
import { randomEdit, SimDocument } from "./simServer";

/**
 * The tag a front end shows for a clientId (a stand-in for its HMAC): sockets alternate between two front ends with
 * different keys, so a client must recognise its own ops by the tag of its current connection's welcome.
 */
const tag = (frontEnd: number, clientId: string) => {
  let h = frontEnd * 7919;
  for (let i = 0; i < clientId.length; i++) h = (h * 31 + clientId.charCodeAt(i)) | 0;
  return `fe${frontEnd}-${(h >>> 0).toString(36)}`;
};
let socketCount = 0;

class FakeServer {
  readonly doc = new SimDocument();
  readonly sockets = new Set<FakeSocket>();
  /** When set, `join` with a rev gets the full text (as when the client is too far behind). */
  fullTextJoins = false;
  /** Ops received but not yet processed: a drop can lose them, or they commit after the socket is gone. */
  deliver(socket: FakeSocket, raw: string): void {
    const f = JSON.parse(raw) as Record<string, unknown>;
    const reply = (m: object) => socket.fromServer(JSON.stringify(m));
    switch (f.type) {
      case "hello":
        socket.clientId = String(f.clientId);
        reply({ type: "welcome", sessionId: `s${++sessionCount}`, author: tag(socket.frontEnd, socket.clientId), heartbeatMs: 60000, maxMessageBytes: 1 << 20 });
        break;
      case "join": {
        socket.joinedDoc = true;
        const rev = f.rev as number | undefined;
        if (rev === undefined || this.fullTextJoins || rev > this.doc.rev) reply({ type: "joined", doc: "d", rev: this.doc.rev, text: this.doc.text });
        else reply({ type: "joined", doc: "d", rev: this.doc.rev, since: rev, ops: this.doc.log.slice(rev).map((c) => ({ rev: c.rev, op: c.op.toJSON(), author: tag(socket.frontEnd, c.clientId), seq: c.seq })) });
        break;
      }
      case "op": {
        const result = this.doc.submit(socket.clientId, f.seq as number, f.rev as number, TextOperation.fromJSON(f.op));
        if ("duplicate" in result) { reply({ type: "ack", doc: "d", seq: f.seq, rev: result.duplicate }); break; }
        for (const s of this.sockets) {
          if (!s.joinedDoc) continue;
          if (s === socket) reply({ type: "ack", doc: "d", seq: f.seq, rev: result.rev });
          else s.fromServer(JSON.stringify({ type: "op", doc: "d", rev: result.rev, op: result.op.toJSON(), author: tag(s.frontEnd, result.clientId), seq: result.seq }));
        }
        break;
      }
      default: break;
    }
  }
}

let server: FakeServer;
let sessionCount = 0;
/** The frame delays of the fake sockets: seeded per test (the default seed for the tests that are not randomized). */
let delays: () => number = seeded(1);
/** The reconnect backoff's jitter, seeded beside the delays. */
let jitterSource: () => number = seeded(2);
const jitter = () => jitterSource();

/** A WebSocket stand-in: frames are delivered asynchronously; close() may lose frames still in flight. */
class FakeSocket {
  readyState = 0;
  clientId = "";
  readonly frontEnd = socketCount++ % 2;
  joinedDoc = false;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor() {
    server.sockets.add(this);
    setTimeout(() => { this.readyState = 1; this.onopen?.(); }, 0);
  }
  send(data: string): void {
    setTimeout(() => { if (this.readyState === 1) server.deliver(this, data); }, delays() * 3);
  }
  fromServer(data: string): void {
    setTimeout(() => { if (this.readyState === 1) this.onmessage?.({ data }); }, delays() * 3);
  }
  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    server.sockets.delete(this);
    setTimeout(() => this.onclose?.({ code: 1006 }), 0);
  }
}

class MemoryStore implements KeyValueStore {
  private readonly map = new Map<string, string>();
  getItem(k: string) { return this.map.get(k) ?? null; }
  setItem(k: string, v: string) { this.map.set(k, v); }
  removeItem(k: string) { this.map.delete(k); }
  get length() { return this.map.size; }
  key(i: number) { return [...this.map.keys()][i] ?? null; }
}

class FakeEditor implements EditorHost {
  text = "";
  applyRemote(op: TextOperation): void { this.text = op.apply(this.text); }
  setCursors(): void {}
}

function person(id: string, store = new DocStore(new MemoryStore())) {
  const connection = new CollabConnection({ url: "ws://test/ws", clientId: id, webSocket: FakeSocket as unknown as typeof WebSocket, backoff: { baseMs: 1, maxMs: 5 }, random: jitter });
  const session = new DocSession({ doc: "d", connection, store });
  const editor = new FakeEditor();
  editor.text = session.initialText() ?? "";
  session.attach(editor);
  connection.start();
  const edit = (random: () => number) => {
    if (!session.ready) return;
    const op = randomEdit(editor.text, random);
    editor.text = op.apply(editor.text);
    session.localChange(op);
  };
  // A network drop: the socket under the connection closes (WebSocketTransport.socket is the one it opened).
  const drop = () => {
    const transport = connection.activeTransport;
    if (transport instanceof WebSocketTransport) (transport.socket as unknown as FakeSocket).close();
  };
  return { connection, session, editor, edit, drop, store };
}

/** Waits (in fake time, at most the 4 s the real-time loop allowed) until everyone is connected, sent and current. */
async function settle(people: ReturnType<typeof person>[]): Promise<void> {
  const settled = () => people.every((p) => p.session.statusInfo().status === "connected" && p.session.unsentEdits() === 0 && p.session.client?.rev === server.doc.rev);
  await until(settled, "everyone to settle", 4000).catch(() => {
    throw new Error(`did not settle: ${JSON.stringify(people.map((p) => p.session.statusInfo()))}`);
  });
}

describe("DocSession resume", () => {
  // Fake time: frame delays, reconnect backoff (its jitter from a seeded source) and heartbeats are logic here.
  beforeEach(() => { useFakeTime(); seedMathRandom(1); delays = seeded(1); jitterSource = seeded(2); });
  afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });

  it.each(seeds(11, 12, 13))("converges when sockets drop at random while people type (seed %i)", async (seed) => {
    server = new FakeServer();
    const random = seeded(seed);
    delays = seeded(seed + 1000);
    jitterSource = seeded(seed + 2000);
    seedMathRandom(seed + 2000);
    const people = [person("a"), person("b"), person("c")];
    for (let step = 0; step < 300; step++) {
      const p = people[Math.floor(random() * people.length)]!;
      if (random() < 0.06) p.drop();
      else p.edit(random);
      if (random() < 0.3) await vi.advanceTimersByTimeAsync(1);
    }
    await settle(people);
    for (const p of people) expect(p.editor.text).toBe(server.doc.text);
    for (const p of people) p.connection.stop();
  });

  it("merges unsent work when the server answers a resume with the full text", async () => {
    server = new FakeServer();
    const a = person("a"), b = person("b");
    await settle([a, b]);
    a.connection.goOffline();
    const random = seeded(5);
    for (let i = 0; i < 20; i++) { a.edit(random); b.edit(random); }
    await settle([b]);
    server.fullTextJoins = true;
    a.connection.goOnline();
    await settle([a, b]);
    expect(a.editor.text).toBe(server.doc.text);
    expect(b.editor.text).toBe(server.doc.text);
    a.connection.stop(); b.connection.stop();
  });

  it("restores unsent work from storage after a reload and sends it with its original seqs", async () => {
    server = new FakeServer();
    const store = new DocStore(new MemoryStore());
    const a = person("a", store);
    await settle([a]);
    a.edit(() => 0.5);
    await settle([a]);
    a.connection.goOffline();
    a.edit(() => 0.1); a.edit(() => 0.9);
    const typed = a.editor.text;
    a.connection.stop();
    await Promise.resolve(); // state is written once per tick; a reload cannot cut into a tick
    const again = person("a", store);
    expect(again.editor.text).toBe(typed);
    await settle([again]);
    expect(server.doc.text).toBe(typed);
    again.connection.stop();
  });
});
