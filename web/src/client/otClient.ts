/**
 * The OT client state machine of one document (docs/protocol.md, "The client state machine"): synchronized,
 * awaiting ack, awaiting with buffer; at most one op in flight. Pure: it asks its host to send and to apply, and
 * keeps the server's text at its revision so that work can be persisted and cursors mapped.
 */
import { TextOperation } from "./textOperation";
import { splitOp } from "./wireSize";

/** The op in flight: its seq never changes, whatever it is rebased over. */
export interface Outstanding {
  op: TextOperation;
  seq: number;
  /** How many local edits it holds (for the "N unsent edits" count). */
  edits: number;
}

export type OtState =
  | { kind: "synchronized" }
  | { kind: "awaitingAck"; outstanding: Outstanding }
  | { kind: "awaitingWithBuffer"; outstanding: Outstanding; buffer: TextOperation; bufferEdits: number };

export interface OtClientHost {
  /** Send the outstanding op (based on `rev`) with its seq. The host may drop it while offline; it is resent on resume. */
  send(op: TextOperation, rev: number, seq: number): void;
  /** Apply an op (in local-text coordinates) to the editor. */
  applyRemote(op: TextOperation): void;
  /** Revision `rev` was committed: `op` is in the server text's coordinates at rev − 1; `author` is its author's tag. */
  committed(rev: number, op: TextOperation, author: string): void;
  /**
   * The most an op may weigh in a frame (wireSize.ts); larger local edits go out as several consecutive ops, each sent
   * after the previous one's ack. Default: 60 000 bytes.
   */
  maxOpBytes?(): number;
}

/** The server skipped or repeated a revision: the client must resynchronise (join again with its rev). */
export class RevisionGapError extends Error {
  override name = "RevisionGapError";
}

/** What the machine keeps, in a form that survives a reload (see persistence.ts). */
export interface OtSnapshot {
  rev: number;
  serverText: string;
  nextSeq: number;
  outstanding: { op: unknown; seq: number; edits: number } | null;
  buffer: { op: unknown; edits: number } | null;
}

export class OtClient {
  state: OtState = { kind: "synchronized" };

  constructor(
    private readonly host: OtClientHost,
    /**
     * This session's tag (`welcome.author`), by which the server names our ops to others and in `joined.ops`; null
     * before a welcome. The front end that renders the frames chooses it, so set it anew on every connection.
     */
    public author: string | null,
    /** The last revision this client holds. */
    public rev: number,
    /** The server's text at `rev` (the local text minus outstanding and buffer). */
    public serverText: string,
    /** The seq the next new op gets. */
    public nextSeq = 1,
  ) {}

  /** Local ops not yet acknowledged, composed (null when synchronized). */
  pending(): TextOperation | null {
    switch (this.state.kind) {
      case "synchronized": return null;
      case "awaitingAck": return this.state.outstanding.op;
      case "awaitingWithBuffer": return this.state.outstanding.op.compose(this.state.buffer);
    }
  }

  /** The text the editor shows: the server text plus pending work. */
  localText(): string {
    const p = this.pending();
    return p ? p.apply(this.serverText) : this.serverText;
  }

  /** Local edits not yet acknowledged by the server. */
  unackedEdits(): number {
    switch (this.state.kind) {
      case "synchronized": return 0;
      case "awaitingAck": return this.state.outstanding.edits;
      case "awaitingWithBuffer": return this.state.outstanding.edits + this.state.bufferEdits;
    }
  }

  /** The user changed the text (op based on the local text). */
  applyLocal(op: TextOperation, edits = 1): void {
    switch (this.state.kind) {
      case "synchronized":
        this.sendNext(op, edits);
        break;
      case "awaitingAck":
        this.state = { kind: "awaitingWithBuffer", outstanding: this.state.outstanding, buffer: op, bufferEdits: edits };
        break;
      case "awaitingWithBuffer":
        this.state.buffer = this.state.buffer.compose(op);
        this.state.bufferEdits += edits;
        break;
    }
  }

  /** Makes `op` the op in flight and sends it: the part that fits a frame, with the rest buffered behind it. */
  private sendNext(op: TextOperation, edits: number): void {
    const parts = splitOp(op, this.host.maxOpBytes?.() ?? 60000);
    // The edits count with the last part: the work is unsent until all of it is acknowledged.
    const outstanding = { op: parts ? parts[0] : op, seq: this.nextSeq++, edits: parts ? 0 : edits };
    this.state = parts
      ? { kind: "awaitingWithBuffer", outstanding, buffer: parts[1], bufferEdits: edits }
      : { kind: "awaitingAck", outstanding };
    this.host.send(outstanding.op, this.rev, outstanding.seq);
  }

  /**
   * A committed op from the stream (an `op` frame or an entry of `joined.ops`). An entry carrying our author tag and
   * the outstanding seq is our own op: it is handled as its ack (protocol rule 6).
   */
  applyServer(rev: number, wire: TextOperation, author: string, seq: number): void {
    if (author === this.author && this.state.kind !== "synchronized" && seq === this.state.outstanding.seq) {
      this.ack(seq, rev);
      return;
    }
    if (rev !== this.rev + 1) throw new RevisionGapError(`expected revision ${this.rev + 1}, got ${rev}`);
    let toApply = wire;
    switch (this.state.kind) {
      case "synchronized":
        break;
      case "awaitingAck": {
        const [outstanding, r1] = TextOperation.transform(this.state.outstanding.op, wire);
        this.state.outstanding.op = outstanding;
        toApply = r1;
        break;
      }
      case "awaitingWithBuffer": {
        const [outstanding, r1] = TextOperation.transform(this.state.outstanding.op, wire);
        const [buffer, r2] = TextOperation.transform(this.state.buffer, r1);
        this.state.outstanding.op = outstanding;
        this.state.buffer = buffer;
        toApply = r2;
        break;
      }
    }
    this.serverText = wire.apply(this.serverText);
    this.rev = rev;
    this.host.committed(rev, wire, author);
    this.host.applyRemote(toApply);
  }

  /**
   * The server acknowledged `seq` as revision `rev`. Returns "ack" when it advanced the stream, "ignored" for an
   * ack of something not outstanding (a duplicate), "included" for an ack outside the stream (rev ≤ current):
   * the op is already part of the text the client was given.
   */
  ack(seq: number, rev: number): "ack" | "ignored" | "included" {
    if (this.state.kind === "synchronized" || seq !== this.state.outstanding.seq) return "ignored";
    if (rev <= this.rev) return "included";
    if (rev !== this.rev + 1) throw new RevisionGapError(`ack for revision ${rev}, expected ${this.rev + 1}`);
    const op = this.state.outstanding.op;
    this.serverText = op.apply(this.serverText);
    this.rev = rev;
    this.host.committed(rev, op, this.author ?? "");
    if (this.state.kind === "awaitingWithBuffer") {
      this.sendNext(this.state.buffer, this.state.bufferEdits);
    } else {
      this.state = { kind: "synchronized" };
    }
    return "ack";
  }

  /** Sends the outstanding op again, rebased to the current revision, with its original seq. */
  resend(): void {
    if (this.state.kind !== "synchronized") this.host.send(this.state.outstanding.op, this.rev, this.state.outstanding.seq);
  }

  snapshot(): OtSnapshot {
    const s = this.state;
    return {
      rev: this.rev,
      serverText: this.serverText,
      nextSeq: this.nextSeq,
      outstanding: s.kind === "synchronized" ? null : { op: s.outstanding.op.toJSON(), seq: s.outstanding.seq, edits: s.outstanding.edits },
      buffer: s.kind === "awaitingWithBuffer" ? { op: s.buffer.toJSON(), edits: s.bufferEdits } : null,
    };
  }

  /** Rebuilds the machine from a snapshot (the host is not told to send; call resend() once joined). */
  static restore(host: OtClientHost, author: string | null, snap: OtSnapshot): OtClient {
    const client = new OtClient(host, author, snap.rev, snap.serverText, snap.nextSeq);
    if (snap.outstanding) {
      const outstanding = { op: TextOperation.fromJSON(snap.outstanding.op), seq: snap.outstanding.seq, edits: snap.outstanding.edits };
      client.state = snap.buffer
        ? { kind: "awaitingWithBuffer", outstanding, buffer: TextOperation.fromJSON(snap.buffer.op), bufferEdits: snap.buffer.edits }
        : { kind: "awaitingAck", outstanding };
    }
    return client;
  }
}
