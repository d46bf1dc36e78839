// Large texts and edits within the frame limit: ops cut by the shared wire-size rule (wireSize.ts, the server's
// Collab.Ot WireSize), a full text reassembled from its parts, a too-large op refused once, and a reconnect loop that
// backs off instead of hammering a server that keeps closing the connection.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CollabConnection } from "../../src/client/connection";
import { DocSession, type EditorHost } from "../../src/client/docSession";
import { TextOperation } from "../../src/client/textOperation";
import { opBytes, splitOp } from "../../src/client/wireSize";
import { FakeHub, MemoryStorage } from "./fakeHub";
import { seeded, seedMathRandom, seeds, until, useFakeTime } from "./random";
import { randomEdit } from "./simServer";

class FakeEditor implements EditorHost {
  text = "";
  applyRemote(op: TextOperation): void { this.text = op.apply(this.text); }
  setCursors(): void {}
}

const alphabet = ["a", "b", " ", "\n", "\"", "\\", "é", "€", "😀", "\u0001"];
/** Random text; with `astral` false no surrogate pairs (randomEdit, which makes the other edits, may cut them). */
function randomText(random: () => number, length: number, astral = true): string {
  const letters = astral ? alphabet : alphabet.filter((a) => a.length === 1);
  let s = "";
  while (s.length < length) s += letters[Math.floor(random() * letters.length)]!;
  return s;
}

describe("splitOp", () => {
  it.each(seeds(11, 12, 13, 14, 15))("cuts any op into a head within the bound and a tail, composing back to it (seed %i)", (seed) => {
    const random = seeded(seed);
    for (let round = 0; round < 200; round++) {
      const base = randomText(random, Math.floor(random() * 300), false);
      let op = randomEdit(base, random);
      // Now and then a large insert somewhere, the shape of a paste.
      if (random() < 0.5) {
        const at = Math.floor(random() * (op.targetLength + 1));
        op = op.compose(new TextOperation().retain(at).insert(randomText(random, 200 + Math.floor(random() * 2000))).retain(op.targetLength - at));
      }
      const max = 64 + Math.floor(random() * 400);
      let rest = op;
      let text = base;
      for (let parts = 0; ; parts++) {
        expect(parts).toBeLessThan(10_000);
        const cut = splitOp(rest, max);
        if (!cut) {
          text = rest.apply(text);
          break;
        }
        const [head, tail] = cut;
        expect(opBytes(head)).toBeLessThanOrEqual(max);
        expect(head.compose(tail).equals(rest)).toBe(true);
        for (const c of head.ops) if (typeof c === "string") expect(c.charCodeAt(c.length - 1) >= 0xd800 && c.charCodeAt(c.length - 1) <= 0xdbff).toBe(false);
        text = head.apply(text);
        rest = tail;
      }
      expect(text).toBe(op.apply(base));
    }
  });

  it("leaves an op that fits alone", () => {
    const op = new TextOperation().retain(3).insert("hello").delete(2);
    expect(splitOp(op, 1000)).toBeNull();
  });
});

describe("large frames between a DocSession and the server", () => {
  beforeEach(() => { useFakeTime(); seedMathRandom(1); });
  afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });

  function person(hub: FakeHub) {
    const connection = new CollabConnection({
      url: "ws://host/ws", sseUrl: "http://host/sse", clientId: "c", transportStore: new MemoryStorage(), fetch: hub.fetch,
      webSocket: hub.webSocket, backoff: { baseMs: 10, maxMs: 2000 }, helloTimeoutMs: 100,
    });
    const session = new DocSession({ doc: "d", connection });
    const editor = new FakeEditor();
    session.attach(editor);
    connection.start();
    const paste = (text: string) => {
      const op = new TextOperation().retain(editor.text.length).insert(text);
      editor.text = op.apply(editor.text);
      session.localChange(op);
    };
    return { connection, session, editor, paste };
  }
  const connected = (s: DocSession) => () => s.statusInfo().status === "connected";

  it("a paste larger than the frame limit reaches the server as several ops, each frame within the limit", async () => {
    const hub = new FakeHub();
    hub.maxMessageBytes = 4096;
    const { session, editor, paste } = person(hub);
    await until(connected(session), "joined");
    const big = randomText(seeded(3), 30_000);
    paste(big);
    await until(() => session.statusInfo().unsent === 0, "every part acknowledged", 10_000);
    const ops = hub.received.filter((r) => r.frame.type === "op");
    expect(ops.length).toBeGreaterThan(10);
    for (const op of ops) expect(op.bytes).toBeLessThanOrEqual(4096);
    expect(hub.doc.text).toBe(big);
    expect(editor.text).toBe(big);
    // No frame was refused, so the connection never dropped.
    expect(hub.received.filter((r) => r.frame.type === "hello")).toHaveLength(1);
  });

  it("a full text sent in parts is reassembled before the session sees it", async () => {
    const hub = new FakeHub();
    const text = randomText(seeded(4), 25_000);
    hub.doc.submit("other", 1, 0, new TextOperation().insert(text));
    hub.textPartChars = 1000;
    const { session, editor } = person(hub);
    await until(connected(session), "joined");
    expect(editor.text).toBe(text);
    expect(session.client?.rev).toBe(1);
  });

  it("an op the server refuses as too_large is reported once and not resent", async () => {
    const hub = new FakeHub();
    const { session, editor, paste } = person(hub);
    await until(connected(session), "joined");
    const submit = hub.doc.submit.bind(hub.doc);
    let refusals = 0;
    // The document limit: this server takes nothing longer than 10 characters.
    hub.doc.submit = (clientId, seq, rev, op) => {
      if (op.targetLength > 10) {
        refusals++;
        throw Object.assign(new Error("too long"), { code: "too_large" });
      }
      return submit(clientId, seq, rev, op);
    };
    hub.onSubmitError = (error) => ({ type: "error", code: (error as { code: string }).code, message: "the document would grow to 20 characters; the limit is 10", doc: "d" });
    paste("x".repeat(20));
    await until(() => session.refused !== null, "the refusal");
    await vi.advanceTimersByTimeAsync(5000);
    expect(refusals).toBe(1);
    expect(session.refused?.code).toBe("too_large");
    expect(editor.text).toBe("");
    expect(session.statusInfo().unsent).toBe(0);
  });

  it("a server that closes every connection right after its welcome is retried with a growing delay", async () => {
    const hub = new FakeHub();
    const { connection } = person(hub);
    const welcomes: number[] = [];
    connection.onStatus(() => {
      if (connection.status !== "connected") return;
      welcomes.push(Date.now());
      queueMicrotask(() => hub.closeSessions(1009, "too large"));
    });
    await until(() => welcomes.length >= 7, "several reconnects", 60_000);
    connection.stop();
    const gaps = welcomes.slice(1).map((t, i) => t - welcomes[i]!);
    // Full jitter draws each delay from [base, base·2^attempt]: the ceiling doubles, so later gaps are longer on average.
    const early = (gaps[0]! + gaps[1]!) / 2;
    const late = (gaps.at(-1)! + gaps.at(-2)!) / 2;
    expect(late).toBeGreaterThan(early * 2);
    expect(connection.attempt).toBeGreaterThanOrEqual(6);
  });
});
