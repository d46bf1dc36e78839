// The OT client state machine against a simulated server with the C# semantics.
import { describe, expect, it } from "vitest";
import { OtClient, type OtClientHost } from "../../src/client/otClient";
import { TextOperation } from "../../src/client/textOperation";
import { seeded, seeds } from "./random";
import { randomEdit, SimDocument } from "./simServer";

type ToServer = { clientId: string; seq: number; rev: number; op: TextOperation };
type ToClient = { kind: "ack"; seq: number; rev: number } | { kind: "op"; rev: number; op: TextOperation; author: string; seq: number };

/** The server names authors by a tag, not by clientId (a stand-in for the front end's HMAC). */
const tag = (clientId: string) => `tag-of-${clientId}`;

class SimClient implements OtClientHost {
  text = "";
  readonly client: OtClient;
  readonly inbox: ToClient[] = [];
  constructor(readonly clientId: string, private readonly outbox: ToServer[]) {
    this.client = new OtClient(this, tag(clientId), 0, "");
  }
  send(op: TextOperation, rev: number, seq: number): void {
    this.outbox.push({ clientId: this.clientId, seq, rev, op });
  }
  applyRemote(op: TextOperation): void {
    this.text = op.apply(this.text);
  }
  committed(): void {}
  edit(random: () => number): void {
    const op = randomEdit(this.text, random);
    this.text = op.apply(this.text);
    this.client.applyLocal(op);
  }
}

function deliverToServer(doc: SimDocument, clients: SimClient[], msg: ToServer): void {
  const result = doc.submit(msg.clientId, msg.seq, msg.rev, msg.op);
  for (const c of clients) {
    if ("duplicate" in result) {
      if (c.clientId === msg.clientId) c.inbox.push({ kind: "ack", seq: msg.seq, rev: result.duplicate });
    } else if (c.clientId === msg.clientId) c.inbox.push({ kind: "ack", seq: msg.seq, rev: result.rev });
    else c.inbox.push({ kind: "op", rev: result.rev, op: result.op, author: tag(result.clientId), seq: result.seq });
  }
}

function deliverToClient(c: SimClient): void {
  const msg = c.inbox.shift()!;
  if (msg.kind === "ack") c.client.ack(msg.seq, msg.rev);
  else c.client.applyServer(msg.rev, msg.op, msg.author, msg.seq);
}

describe("OtClient", () => {
  it("follows the table: synchronized → awaiting ack → awaiting with buffer → awaiting ack → synchronized", () => {
    const sent: [string, number, number][] = [];
    let text = "abc";
    const host: OtClientHost = {
      send: (op, rev, seq) => sent.push([op.toString(), rev, seq]),
      applyRemote: (op) => (text = op.apply(text)),
      committed: () => {},
    };
    const c = new OtClient(host, "me", 5, "abc");
    const local = (op: TextOperation) => { text = op.apply(text); c.applyLocal(op); };
    local(new TextOperation().retain(3).insert("d"));
    expect(c.state.kind).toBe("awaitingAck");
    expect(sent).toEqual([['[3,"d"]', 5, 1]]);
    local(new TextOperation().retain(4).insert("e"));
    expect(c.state.kind).toBe("awaitingWithBuffer");
    // A remote insert at the start, rev 6: both pending ops shift.
    c.applyServer(6, new TextOperation().insert("X").retain(3), "other", 1);
    expect(text).toBe("Xabcde");
    expect(c.serverText).toBe("Xabc");
    expect(c.ack(1, 7)).toBe("ack");
    expect(sent[1]).toEqual(['[5,"e"]', 7, 2]);
    expect(c.ack(2, 8)).toBe("ack");
    expect(c.state.kind).toBe("synchronized");
    expect(c.serverText).toBe("Xabcde");
    expect(c.ack(2, 8)).toBe("ignored");
  });

  it("recognises its own op among the committed ops (resume: joined.ops holds it)", () => {
    let text = "Hello";
    const c = new OtClient({ send: () => {}, applyRemote: (op) => (text = op.apply(text)), committed: () => {} }, "tab-7f3a", 5, "Hello");
    const op = new TextOperation().retain(5).insert(" world");
    text = op.apply(text);
    c.applyLocal(op);
    c.applyServer(6, TextOperation.fromJSON(["¡", 5]), "bob-tab", 9);
    c.applyServer(7, TextOperation.fromJSON([6, " world"]), "tab-7f3a", 1);
    expect(c.state.kind).toBe("synchronized");
    expect(c.rev).toBe(7);
    expect(text).toBe("¡Hello world");
    expect(c.serverText).toBe("¡Hello world");
  });

  it("takes an entry with its seq but another author, or any entry before it knows its tag, for someone else's op", () => {
    for (const [mine, theirs] of [["tag-mine", "tag-other"], [null, "tag-other"]] as const) {
      let text = "ab";
      const c = new OtClient({ send: () => {}, applyRemote: (op) => (text = op.apply(text)), committed: () => {} }, mine, 1, "ab");
      const op = TextOperation.fromJSON([2, "c"]);
      text = op.apply(text);
      c.applyLocal(op);
      c.applyServer(2, TextOperation.fromJSON(["X", 2]), theirs, 1);
      expect(c.state.kind).toBe("awaitingAck");
      expect(c.rev).toBe(2);
      expect(text).toBe("Xabc");
    }
  });

  it("recognises its own op by the tag of the current connection", () => {
    const c = new OtClient({ send: () => {}, applyRemote: () => {}, committed: () => {} }, "tag-front-end-1", 1, "");
    c.applyLocal(TextOperation.fromJSON(["x"]));
    // Reconnected to another front end, which names the same tab differently.
    c.author = "tag-front-end-2";
    c.applyServer(2, TextOperation.fromJSON(["x"]), "tag-front-end-2", 1);
    expect(c.state.kind).toBe("synchronized");
    expect(c.serverText).toBe("x");
  });

  it("rejects a gap in the stream", () => {
    const c = new OtClient({ send: () => {}, applyRemote: () => {}, committed: () => {} }, "me", 1, "");
    expect(() => c.applyServer(3, TextOperation.fromJSON(["x"]), "o", 1)).toThrow(/expected revision 2/);
  });

  it("snapshot and restore keep seq, outstanding and buffer", () => {
    const host: OtClientHost = { send: () => {}, applyRemote: () => {}, committed: () => {} };
    const c = new OtClient(host, "me", 2, "ab");
    c.applyLocal(TextOperation.fromJSON([2, "c"]));
    c.applyLocal(TextOperation.fromJSON([3, "d"]));
    const r = OtClient.restore(host, "me", JSON.parse(JSON.stringify(c.snapshot())));
    expect(r.localText()).toBe("abcd");
    expect(r.nextSeq).toBe(2);
    expect(r.unackedEdits()).toBe(2);
  });

  it.each(seeds(1, 2, 3, 4, 5, 6, 7, 8))("converges with random concurrent edits and delays (seed %i)", (seed) => {
    const random = seeded(seed);
    const doc = new SimDocument();
    const outbox: ToServer[] = [];
    const clients = Array.from({ length: 4 }, (_, i) => new SimClient(`c${i}`, outbox));
    for (let step = 0; step < 600; step++) {
      const r = random();
      const c = clients[Math.floor(random() * clients.length)]!;
      if (r < 0.4) c.edit(random);
      else if (r < 0.65 && outbox.length) deliverToServer(doc, clients, outbox.splice(Math.floor(random() * Math.min(2, outbox.length)), 1)[0]!);
      else if (c.inbox.length) deliverToClient(c);
      // Same-client messages must stay in order: the server sees each client's ops in send order.
      outbox.sort((a, b) => (a.clientId === b.clientId ? a.seq - b.seq : 0));
    }
    while (outbox.length || clients.some((c) => c.inbox.length)) {
      if (outbox.length) deliverToServer(doc, clients, outbox.shift()!);
      for (const c of clients) while (c.inbox.length) deliverToClient(c);
    }
    for (const c of clients) {
      expect(c.client.state.kind).toBe("synchronized");
      expect(c.text).toBe(doc.text);
      expect(c.client.serverText).toBe(doc.text);
      expect(c.client.rev).toBe(doc.rev);
    }
    expect(doc.rev).toBeGreaterThan(20);
  });
});
