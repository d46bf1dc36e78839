/**
 * One document of a tab: joins over a CollabConnection, runs the OT state machine, resumes after reconnects
 * (join+rev, own op recognised in joined.ops, resend with the original seq), recovers when the server sends the
 * whole text instead of ops, persists unsent work, and tracks the other people's cursors.
 */
import type { CollabConnection, ConnectionStatus } from "./connection";
import { OtClient, RevisionGapError, type OtClientHost } from "./otClient";
import type { DocStore } from "./persistence";
import { PresenceTracker, type RemoteCursor } from "./presence";
import type { Access, ErrorFrame, JoinedFrame, ServerFrame } from "./protocol";
import { diffOp, TextOperation } from "./textOperation";

/** What the session needs from the editor. */
export interface EditorHost {
  /** Apply an op to the editor's text without reporting it back as a local change. */
  applyRemote(op: TextOperation): void;
  /** The other people's cursors, in the editor's coordinates. */
  setCursors(cursors: RemoteCursor[]): void;
}

/**
 * `revoked`: the connection was closed with 4403 (the link was rotated); `unauthorized`: the server refused the
 * join (no valid credential for this document). Neither is retried.
 */
export type DocStatus = "connecting" | "connected" | "reconnecting" | "offline" | "revoked" | "expired" | "unauthorized";

export interface DocStatusInfo {
  status: DocStatus;
  unsent: number;
  rev: number;
  transport: string;
  /** What the credential allows, from the last `joined` (null in Open mode or before the first join). */
  access: Access | null;
  /** The server's message with the refusal behind `unauthorized`, or the last `forbidden` op. */
  message: string | null;
}

/**
 * After a `joined` with the whole text while work was unacknowledged: the outstanding op was resent with its
 * original seq and rev, and until the server says what became of it, local edits collect in `local`.
 */
interface Recovery {
  /** The server text the client held before (the outstanding op's base). */
  oldText: string;
  oldRev: number;
  outstanding: { op: TextOperation; seq: number; edits: number };
  /** Buffer plus everything typed since, on top of oldText ∘ outstanding. */
  local: TextOperation | null;
  localEdits: number;
  /** The authoritative text and revision from the full `joined`. */
  text: string;
  rev: number;
  /** Stream ops after `rev`, held until the recovery ends. */
  stash: { rev: number; op: TextOperation; author: string; seq: number }[];
  /** The outstanding op is known to be in the next full text (waiting for a second join). */
  rejoining: boolean;
}

export interface DocSessionOptions {
  doc: string;
  connection: CollabConnection;
  store?: DocStore | null;
  /** Presence frames are throttled to one per this many ms. */
  presenceThrottleMs?: number;
}

export class DocSession implements OtClientHost {
  readonly doc: string;
  client: OtClient | null = null;
  /** Set once the client holds a text (restored or joined): the editor may be edited. */
  ready = false;
  /** `joined.access` (Links mode): `view` sessions send no ops. */
  access: Access | null = null;
  /** The join was refused (`unauthorized`): the session does not join again. */
  denied: ErrorFrame | null = null;
  /** The last `forbidden` answer to an op (the op was dropped, not resent). */
  refused: ErrorFrame | null = null;
  private editor: EditorHost | null = null;
  private readonly connection: CollabConnection;
  private readonly store: DocStore | null;
  private joined = false;
  private recovery: Recovery | null = null;
  private readonly presence = new PresenceTracker();
  private localSelection: { anchor: number; head: number } | null = null;
  private presenceTimer: ReturnType<typeof setTimeout> | null = null;
  private lastPresenceAt = 0;
  private readonly presenceThrottleMs: number;
  private saveQueued = false;
  private readonly listeners = new Set<(info: DocStatusInfo) => void>();
  private readonly readyListeners = new Set<(text: string) => void>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** The highest seq that went out under the current clientId (a restored outstanding op counts as sent). */
  private sentSeq = 0;
  /** Consecutive `client_id_in_use` answers to our join (the retry backs off). */
  private refusals = 0;
  /**
   * The text (and unsent edit count) up to which our unsent work may be held by another page with this clientId:
   * set when it is restored from storage, and when another tab asked for our clientId and our answer came too late
   * while we were not joined (it kept the id and may have restored our outbox). Valid until the next join: without one no server op moves the text, so our own work
   * since is exactly what changed it.
   */
  private handOver: { text: string; edits: number } | null = null;
  /** Unsent work handed to a new clientId waits in memory for the first full-text join under it (see rekeyed). */
  private handingOver = false;

  constructor(options: DocSessionOptions) {
    this.doc = options.doc;
    this.connection = options.connection;
    this.store = options.store ?? null;
    this.presenceThrottleMs = options.presenceThrottleMs ?? 80;
    const saved = this.store?.load(this.doc, this.connection.clientId);
    if (saved && saved.rev >= 0) {
      try {
        this.client = OtClient.restore(this, this.connection.author, saved);
        this.ready = true;
        // A previous load with this clientId may have sent it, and another page with it may send it: it belongs to
        // the clientId, not to this page (see rekeyed).
        this.sentSeq = saved.outstanding?.seq ?? 0;
        if (saved.outstanding) this.handOver = { text: this.client.localText(), edits: this.client.unackedEdits() };
      } catch {
        this.client = null;
      }
    } else if (saved) {
      // Only the seq counter survived (quota): new ops must still use fresh seqs.
      this.pendingSeq = saved.nextSeq;
    }
    this.connection.onStatus(() => this.emit());
  }

  /** A seq counter carried over when no full state could be restored. */
  private pendingSeq: number | null = null;

  /** The text to show before the first `joined` (restored from storage), or null. */
  initialText(): string | null {
    return this.client ? this.client.localText() : null;
  }

  attach(editor: EditorHost): void {
    this.editor = editor;
    this.connection.register(this.doc, {
      opened: () => {
        if (!this.denied) this.join();
      },
      frame: (frame) => this.receive(frame),
      rekeyed: () => this.rekeyed(),
      asked: () => {
        if (!this.joined && this.client && !this.recovery) this.handOver = { text: this.client.localText(), edits: this.client.unackedEdits() };
      },
      closed: () => {
        this.joined = false;
        this.presence.clear();
        this.pushCursors();
        this.emit();
      },
    });
  }

  detach(): void {
    this.connection.unregister(this.doc);
    this.editor = null;
  }

  onStatus(listener: (info: DocStatusInfo) => void): () => void {
    this.listeners.add(listener);
    listener(this.statusInfo());
    return () => this.listeners.delete(listener);
  }

  /** Called with the text once the session first holds one (at once if restored from storage). */
  onReady(listener: (text: string) => void): void {
    if (this.ready && this.client) listener(this.client.localText());
    else this.readyListeners.add(listener);
  }

  statusInfo(): DocStatusInfo {
    const connection: ConnectionStatus = this.connection.status;
    let status: DocStatus;
    if (connection === "revoked" || connection === "expired") status = connection;
    else if (this.denied) status = "unauthorized";
    else if (connection === "offline") status = "offline";
    else if (this.joined && !this.recovery) status = "connected";
    else if (connection === "connecting" && !this.ready) status = "connecting";
    else status = "reconnecting";
    const message = this.denied?.message ?? this.refused?.message ?? null;
    return { status, unsent: this.unsentEdits(), rev: this.client?.rev ?? 0, transport: this.connection.transport, access: this.access, message };
  }

  unsentEdits(): number {
    if (this.recovery) return this.recovery.outstanding.edits + this.recovery.localEdits;
    return this.client?.unackedEdits() ?? 0;
  }

  /** The text the session believes the editor shows. */
  localText(): string {
    if (this.recovery) {
      const r = this.recovery;
      const base = r.outstanding.op.apply(r.oldText);
      return r.local ? r.local.apply(base) : base;
    }
    return this.client?.localText() ?? "";
  }

  /** The user edited the text (op based on the editor's text before the change). */
  localChange(op: TextOperation): void {
    if (op.isNoop()) return;
    if (this.recovery) {
      const r = this.recovery;
      r.local = r.local ? r.local.compose(op) : op;
      r.localEdits++;
    } else if (this.client) {
      this.client.applyLocal(op);
    } else {
      return; // not ready: the editor is read-only until then
    }
    this.persist();
    this.pushCursors();
    this.emit();
  }

  /** The user's selection moved (editor coordinates). */
  localSelectionChanged(anchor: number, head: number): void {
    this.localSelection = { anchor, head };
    this.schedulePresence();
  }

  // ---- OtClientHost ----

  send(op: TextOperation, rev: number, seq: number): void {
    this.persist();
    if (this.access === "view") {
      // A view link cannot edit (the editor should not have let this through): undo it rather than keep it unsent.
      this.refused = { type: "error", code: "forbidden", message: "this link is view-only", doc: this.doc };
      queueMicrotask(() => this.dropUnsent());
      return;
    }
    if (!this.joined) return; // resent on resume
    this.sendOp(rev, seq, op);
  }

  maxOpBytes(): number {
    // The frame also carries type, doc, rev and seq: the server keeps the same 512 bytes for them.
    const max = this.connection.welcome?.maxMessageBytes;
    return max ? Math.max(1024, max - 512) : 60000;
  }

  private sendOp(rev: number, seq: number, op: TextOperation): void {
    if (this.connection.send({ type: "op", doc: this.doc, rev, seq, op: op.toJSON() })) this.sentSeq = Math.max(this.sentSeq, seq);
  }

  applyRemote(op: TextOperation): void {
    this.editor?.applyRemote(op);
  }

  committed(rev: number, op: TextOperation, author: string): void {
    this.presence.committed(rev, op, author);
  }

  // ---- protocol ----

  private join(): void {
    this.joined = false;
    const rev = this.recovery ? (this.recovery.rejoining ? undefined : this.recovery.oldRev) : this.client?.rev;
    this.connection.send(rev === undefined ? { type: "join", doc: this.doc } : { type: "join", doc: this.doc, rev });
  }

  private rejoin(): void {
    this.joined = false;
    this.emit();
    this.join();
  }

  private receive(frame: ServerFrame): void {
    try {
      switch (frame.type) {
        case "joined": this.onJoined(frame); break;
        case "op":
          if (!this.joined) return; // from a membership that a new join replaced
          this.onStreamOp(frame.rev, TextOperation.fromJSON(frame.op), frame.author, frame.seq);
          break;
        case "ack":
          if (!this.joined) return;
          this.onAck(frame.seq, frame.rev);
          break;
        case "presence":
          if (!this.joined) return;
          this.presence.receive(frame, this.client?.rev ?? 0);
          this.pushCursors();
          break;
        case "error": this.onError(frame); break;
        default: break;
      }
    } catch (error) {
      if (error instanceof RevisionGapError) {
        // The stream is not what the state machine expects: start over from our revision.
        this.rejoin();
        return;
      }
      throw error;
    }
  }

  private onJoined(frame: JoinedFrame): void {
    this.joined = true;
    this.refusals = 0;
    this.handOver = null;
    this.access = frame.access ?? null;
    this.presence.clear();
    // Our tag comes from this connection's welcome (another front end renders other tags): own ops in joined.ops carry it.
    if (this.client) this.client.author = this.connection.author;
    if (this.recovery) {
      if (frame.text !== undefined && this.recovery.rejoining) {
        this.finishRecovery(frame.text, frame.rev, "included", []);
      } else {
        // A resume while recovering: start the recovery over against this answer.
        const r = this.recovery;
        this.recovery = null;
        const client = new OtClient(this, this.connection.author, r.oldRev, r.oldText, r.outstanding.seq + 1);
        client.state = r.local
          ? { kind: "awaitingWithBuffer", outstanding: r.outstanding, buffer: r.local, bufferEdits: r.localEdits }
          : { kind: "awaitingAck", outstanding: r.outstanding };
        this.client = client;
        this.onJoined({ ...frame });
        return;
      }
    } else if (!this.client) {
      const text = frame.text ?? "";
      this.client = new OtClient(this, this.connection.author, frame.rev, text, this.pendingSeq ?? 1);
      this.editor?.applyRemote(diffOp("", text));
    } else if (frame.text === undefined) {
      // Catch-up: every entry is one revision; our own outstanding op among them is its ack.
      const client = this.client;
      for (const entry of frame.ops ?? []) {
        if (entry.rev <= client.rev) continue;
        client.applyServer(entry.rev, TextOperation.fromJSON(entry.op), entry.author, entry.seq);
      }
      client.resend();
    } else if (this.client.state.kind === "synchronized") {
      // Nothing unsent: take the text as given.
      const client = this.client;
      const before = client.localText();
      client.serverText = frame.text;
      client.rev = frame.rev;
      this.editor?.applyRemote(diffOp(before, frame.text));
    } else {
      this.startRecovery(frame.text, frame.rev);
    }
    // Work left from an earlier edit session of this tab cannot be sent through a view link.
    if (this.access === "view" && this.unsentEdits() > 0) this.dropUnsent();
    this.markReady();
    this.persist();
    this.sendPresenceNow();
    this.pushCursors();
    this.emit();
  }

  private markReady(): void {
    if (this.ready || !this.client) return;
    this.ready = true;
    for (const listener of this.readyListeners) listener(this.client.localText());
    this.readyListeners.clear();
  }

  private onStreamOp(rev: number, op: TextOperation, author: string, seq: number): void {
    if (this.recovery) {
      if (!this.recovery.rejoining) this.recovery.stash.push({ rev, op, author, seq });
      if (author === this.connection.author && seq === this.recovery.outstanding.seq) this.recoveryAck(rev);
      return;
    }
    this.client?.applyServer(rev, op, author, seq);
    this.persist();
    this.pushCursors();
    this.emit();
  }

  private onAck(seq: number, rev: number): void {
    if (this.recovery) {
      if (seq === this.recovery.outstanding.seq) this.recoveryAck(rev);
      return;
    }
    const result = this.client?.ack(seq, rev);
    if (result === "included") {
      // Cannot happen in the stream (our own ops in joined.ops are recognised); resynchronise to be safe.
      this.rejoin();
      return;
    }
    this.persist();
    this.pushCursors();
    this.emit();
  }

  private onError(frame: ErrorFrame): void {
    const retry = frame.retryAfterMs ?? 500;
    const outstandingSeq = this.recovery?.outstanding.seq ??
      (this.client && this.client.state.kind !== "synchronized" ? this.client.state.outstanding.seq : undefined);
    const aboutOutstanding = frame.seq !== undefined && frame.seq === outstandingSeq;
    switch (frame.code) {
      case "internal":
      case "rate_limited":
        if (aboutOutstanding) this.later(retry, () => this.resendOutstanding());
        else if (frame.seq === undefined && frame.code === "internal") this.later(retry, () => this.rejoin());
        else if (frame.code === "rate_limited") this.later(retry, () => this.sendPresenceNow());
        break;
      case "stale_rev":
        if (this.recovery && aboutOutstanding) this.recoveryLost();
        else this.rejoin();
        break;
      case "not_joined":
        if (!this.denied) this.rejoin();
        break;
      case "client_id_in_use": {
        // Another page's live session holds our clientId for this document. Either a live tab of this browser
        // claims it (a duplicate that was not told apart at load): the connection takes a new clientId and
        // reconnects, and rekeyed() has prepared the next join. Or nobody does: it is our own session from a dropped
        // connection that the server has not noticed yet; join again later, backing off up to 16× retryAfterMs.
        this.joined = false;
        this.presence.clear();
        this.pushCursors();
        this.emit();
        // The wait counts from the refusal; asking the tabs (~200 ms) happens within it.
        const due = Date.now() + Math.min(15000, (frame.retryAfterMs ?? 1000) * 2 ** Math.min(this.refusals++, 4));
        void this.connection.clientIdRefused().then((rekeyed) => {
          if (rekeyed) this.refusals = 0;
          else this.later(Math.max(0, due - Date.now()), () => {
            if (!this.joined && !this.denied) this.rejoin();
          });
        });
        break;
      }
      case "unauthorized":
        // No valid credential (or the link was revoked): joining again with the same one would be refused again.
        this.denied = frame;
        this.joined = false;
        this.presence.clear();
        this.pushCursors();
        this.emit();
        break;
      case "too_large":
        // The document would outgrow its limit (or the op its frame): resending can only be refused again. Say so
        // once, and put the text back to the server's.
        this.refused = frame;
        if (aboutOutstanding) this.dropUnsent();
        this.emit();
        break;
      case "forbidden":
        // A view-only membership: the op will never be taken. Drop the unsent work rather than resend it forever.
        this.refused = frame;
        if (aboutOutstanding) this.dropUnsent();
        this.emit();
        break;
      case "bad_op":
      case "bad_request":
        if (aboutOutstanding) {
          // The server will never take this op: merge what we can onto the server's text, with a new seq.
          if (this.recovery) this.recoveryLost();
          else if (this.client && this.client.state.kind !== "synchronized") {
            const c = this.client;
            const s = c.state as Exclude<typeof c.state, { kind: "synchronized" }>;
            this.recovery = {
              oldText: c.serverText, oldRev: c.rev, outstanding: s.outstanding,
              local: s.kind === "awaitingWithBuffer" ? s.buffer : null, localEdits: s.kind === "awaitingWithBuffer" ? s.bufferEdits : 0,
              text: c.serverText, rev: c.rev, stash: [], rejoining: false,
            };
            this.recoveryLost();
          }
        }
        break;
      default:
        break;
    }
  }

  private later(ms: number, action: () => void): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      action();
    }, ms);
  }

  private resendOutstanding(): void {
    if (!this.joined || this.access === "view") return;
    if (this.recovery) {
      const r = this.recovery;
      this.sendOp(r.oldRev, r.outstanding.seq, r.outstanding.op);
    } else this.client?.resend();
  }

  /**
   * The page takes a new clientId because a live tab claims the old one. What happens to our unacknowledged work:
   *
   * - An op that went out under the old id (or was restored from storage, which a previous load may have sent) is
   *   bound to it: the server dedupes by (clientId, seq), so its fate is decided under the old id, and we cannot learn
   *   it under the new one (other frames name authors by per-clientId tags). Resending it under the new id could
   *   apply it twice. It is handed over to the old id: the tab now holding it restored the same outbox from
   *   localStorage (keyed by document and clientId) when it loaded with that id, and resends it with its seq, which
   *   exactly-once keeps to one commit. Our text keeps showing it until the server's text says otherwise.
   * - Work that never went out under the old id (typed while not joined, e.g. since the refusal) is ours alone: it is
   *   merged onto the server's text and sent under the new id, with seqs starting at 1.
   * - Work restored from storage at load is the old id's too, sent or not (the tab holding the id restored the same
   *   outbox, or wrote it): a page that was never joined since its restore (the usual case: a copy that was not told
   *   apart at load, then refused) hands all of it over and keeps only what it typed since.
   * - Likewise for an original that was frozen when the copy started: the copy's question reaches it late, and all it
   *   had persisted by then (sent or not) may be in the copy's outbox; only what it typed after the question is its
   *   own. Without such a mark (the question never arrived), work never sent by this page is resent under the new
   *   id: a duplicate is visible and can be fixed by hand, a lost edit cannot.
   *
   * With clone detection at load (tabIdentity.ts), the page that gets here is the one that held the id first and
   * was unreachable (frozen, or its channel message lost) when the copy started; a copy detected at load already
   * has a new id and no outbox (it loads none under a fresh id), so it never takes this path with work of its own.
   * The handed-over state is not persisted under the new id until the first full-text join has resolved it: a reload
   * in that round trip would otherwise resend the old id's op under the new one.
   */
  private rekeyed(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.refusals = 0;
    let base: string;
    let rev: number;
    let work: TextOperation | null;
    let edits: number;
    const split = (serverText: string, outstanding: { op: TextOperation; seq: number; edits: number }, sent: boolean,
      local: TextOperation | null, localEdits: number) => {
      base = sent ? outstanding.op.apply(serverText) : serverText;
      work = sent ? local : local ? outstanding.op.compose(local) : outstanding.op;
      edits = sent ? localEdits : outstanding.edits + localEdits;
    };
    if (this.handOver && this.client && !this.recovery) {
      rev = this.client.rev;
      base = this.handOver.text;
      const now = this.client.localText();
      work = now === base ? null : diffOp(base, now);
      edits = work ? Math.max(1, this.client.unackedEdits() - this.handOver.edits) : 0;
      this.handOver = null;
    } else if (this.recovery) {
      const r = this.recovery;
      rev = r.oldRev;
      split(r.oldText, r.outstanding, r.rejoining || r.outstanding.seq <= this.sentSeq, r.local, r.localEdits);
    } else if (this.client) {
      const c = this.client;
      const s = c.state;
      rev = c.rev;
      if (s.kind === "synchronized") {
        base = c.serverText;
        work = null;
        edits = 0;
      } else {
        const buffer = s.kind === "awaitingWithBuffer" ? s.buffer : null;
        split(c.serverText, s.outstanding, s.outstanding.seq <= this.sentSeq, buffer, s.kind === "awaitingWithBuffer" ? s.bufferEdits : 0);
      }
    } else {
      // Nothing held yet: the first join under the new id starts from the server's text. A seq counter carried over
      // from the old id's storage means nothing under the new one.
      this.pendingSeq = null;
      this.sentSeq = 0;
      return;
    }
    this.sentSeq = 0;
    this.handingOver = true;
    // A recovery whose outstanding op is empty and already "included", waiting for the full text: finishRecovery
    // merges `work` onto whatever text the server gives us.
    this.recovery = {
      oldText: base!, oldRev: rev, outstanding: { op: new TextOperation().retain(base!.length), seq: 0, edits: 0 },
      local: work!, localEdits: edits!, text: base!, rev, stash: [], rejoining: true,
    };
    this.emit();
  }

  /** Discards every unacknowledged edit: the editor goes back to the server's text (nothing is sent). */
  private dropUnsent(): void {
    if (this.recovery) {
      const r = this.recovery;
      r.local = null;
      r.localEdits = 0;
      r.rejoining = false;
      this.finishRecovery(r.text, r.rev, "included", r.stash);
      return;
    }
    const c = this.client;
    if (!c || c.state.kind === "synchronized") return;
    const shown = c.localText();
    this.client = new OtClient(this, this.connection.author, c.rev, c.serverText, c.nextSeq);
    this.editor?.applyRemote(diffOp(shown, c.serverText));
    this.persist();
    this.pushCursors();
    this.emit();
  }

  // ---- recovery after a full-text join with unsent work (docs/protocol.md, "If joined brings the full text") ----

  private startRecovery(text: string, rev: number): void {
    const c = this.client!;
    const s = c.state as Exclude<typeof c.state, { kind: "synchronized" }>;
    this.recovery = {
      oldText: c.serverText,
      oldRev: c.rev,
      outstanding: s.outstanding,
      local: s.kind === "awaitingWithBuffer" ? s.buffer : null,
      localEdits: s.kind === "awaitingWithBuffer" ? s.bufferEdits : 0,
      text,
      rev,
      stash: [],
      rejoining: false,
    };
    this.resendOutstanding();
  }

  private recoveryAck(rev: number): void {
    const r = this.recovery!;
    if (rev <= r.rev) {
      this.finishRecovery(r.text, r.rev, "included", r.stash);
    } else {
      // Applied just now, transformed by the server: fetch the text that holds it.
      r.rejoining = true;
      r.stash = [];
      this.rejoin();
    }
  }

  private recoveryLost(): void {
    const r = this.recovery!;
    this.finishRecovery(r.text, r.rev, "lost", r.stash);
  }

  /**
   * Ends a recovery: the server text `text` at `rev` is authoritative. The local work that is not in it is merged
   * onto it by transforming it over the difference between the text it was based on and `text`.
   */
  private finishRecovery(text: string, rev: number, fate: "included" | "lost", stash: Recovery["stash"]): void {
    const r = this.recovery!;
    this.recovery = null;
    this.handingOver = false;
    const shownBefore = r.local ? r.local.apply(r.outstanding.op.apply(r.oldText)) : r.outstanding.op.apply(r.oldText);
    let base: string;
    let work: TextOperation | null;
    let edits: number;
    if (fate === "included") {
      base = r.outstanding.op.apply(r.oldText);
      work = r.local;
      edits = r.localEdits;
    } else {
      base = r.oldText;
      work = r.local ? r.outstanding.op.compose(r.local) : r.outstanding.op;
      edits = r.outstanding.edits + r.localEdits;
    }
    const merged = work ? TextOperation.transform(work, diffOp(base, text))[0] : null;
    const client = new OtClient(this, this.connection.author, rev, text, r.outstanding.seq + 1);
    this.client = client;
    const target = merged ? merged.apply(text) : text;
    this.editor?.applyRemote(diffOp(shownBefore, target));
    if (merged && !merged.isNoop()) client.applyLocal(merged, edits);
    for (const entry of stash) if (entry.rev > client.rev) client.applyServer(entry.rev, entry.op, entry.author, entry.seq);
    this.persist();
    this.pushCursors();
    this.emit();
  }

  // ---- presence ----

  private schedulePresence(): void {
    if (this.presenceTimer !== null) return;
    const wait = Math.max(0, this.lastPresenceAt + this.presenceThrottleMs - Date.now());
    this.presenceTimer = setTimeout(() => {
      this.presenceTimer = null;
      this.sendPresenceNow();
    }, wait);
  }

  private sendPresenceNow(): void {
    const client = this.client;
    if (!this.joined || !client || this.recovery || !this.localSelection) return;
    // Presence positions are in the server's text at our revision: map the selection back through our pending ops.
    const pending = client.pending();
    const toServer = (pos: number) => {
      const p = Math.min(pos, pending ? pending.targetLength : client.serverText.length);
      return pending ? pending.invert(client.serverText).transformPosition(p) : p;
    };
    this.lastPresenceAt = Date.now();
    this.connection.send({
      type: "presence", doc: this.doc, rev: client.rev,
      anchor: toServer(this.localSelection.anchor), head: toServer(this.localSelection.head),
    });
  }

  /** Remote cursors in editor coordinates. */
  cursors(): RemoteCursor[] {
    const client = this.client;
    if (!client || this.recovery) return [];
    return this.presence.inLocalText(client.rev, client.pending(), client.localText().length);
  }

  private pushCursors(): void {
    this.editor?.setCursors(this.cursors());
  }

  private persist(): void {
    if (this.saveQueued || !this.store) return;
    this.saveQueued = true;
    // One write per tick, however many changes it held; synchronous enough that a reload cannot slip between.
    queueMicrotask(() => {
      this.saveQueued = false;
      if (!this.client || this.handingOver) return;
      if (this.recovery) {
        const r = this.recovery;
        this.store!.save(this.doc, this.connection.clientId, {
          rev: r.oldRev, serverText: r.oldText, nextSeq: r.outstanding.seq + 1,
          outstanding: { op: r.outstanding.op.toJSON(), seq: r.outstanding.seq, edits: r.outstanding.edits },
          buffer: r.local ? { op: r.local.toJSON(), edits: r.localEdits } : null,
        });
      } else this.store!.save(this.doc, this.connection.clientId, this.client.snapshot());
    });
  }

  private emit(): void {
    const info = this.statusInfo();
    for (const listener of [...this.listeners]) listener(info);
  }
}
