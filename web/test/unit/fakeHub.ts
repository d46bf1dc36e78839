// An in-memory collab.v1 server reachable over both transports: a fake WebSocket class and a fake fetch serving
// GET /sse (a text/event-stream body the hub writes to) and POST /sse/<token>. One SimDocument "d" behind both.
import { TextOperation } from "../../src/client/textOperation";
import { SimDocument } from "./simServer";

/** The server names authors by a tag, never by clientId (a stand-in for the front end's HMAC). */
const authorTag = (clientId: string) => `tag-${[...clientId].reverse().join("")}`;

export type WsBehaviour = "ok" | "fail" | "silent" | "refuse-after-open";

interface Session {
  id: string;
  clientId: string;
  /** The `instance` of its hello (the page load). */
  instance?: string;
  joined: boolean;
  send(frame: object): void;
  alive: boolean;
  /** A hung front end: the socket stays open, but nothing is read from it or written to it. */
  frozen?: boolean;
  /** The server ends the session with a close code (WebSocket close frame, or the SSE `close` event). */
  close?(code: number, reason: string): void;
}

export interface Request {
  method: string;
  /** The path. */
  url: string;
  /** The whole URL as requested (path, query and fragment). */
  fullUrl: string;
  /** The Collab-Session header, if any. */
  session?: string;
  body?: string;
  status?: number;
}

const encoder = new TextEncoder();

export class FakeHub {
  readonly doc = new SimDocument();
  readonly sessions = new Set<Session>();
  heartbeatMs = 60_000;
  /** Announced in `welcome`; a client frame larger than this (in UTF-8 bytes) closes the session with 1009. */
  maxMessageBytes = 1 << 20;
  /** When set, a full text longer than this many characters goes out as a `joined` with `parts` and `text` frames. */
  textPartChars: number | null = null;
  /** Turns an error thrown by the document's submit into the error frame answered (without it, the error propagates). */
  onSubmitError: ((error: unknown) => object) | null = null;
  /** How new WebSockets behave. */
  ws: WsBehaviour = "ok";
  /** Whether GET /sse is reachable. */
  sseUp = true;
  /** Overrides the status of the next POSTs (then 202 again once the list is used up). */
  postStatuses: number[] = [];
  /** POSTs wait for this before they are answered (to observe one-in-flight). */
  holdPosts = false;
  private held: (() => void)[] = [];
  readonly requests: Request[] = [];
  readonly wsAttempts: WsBehaviour[] = [];
  /** Every client frame received, in order, with the transport it came by. */
  readonly received: { via: "ws" | "sse"; frame: Record<string, unknown>; at: number; bytes: number }[] = [];
  private readonly streams = new Map<string, { session: Session; controller: ReadableStreamDefaultController<Uint8Array> }>();
  private nextToken = 1;
  /** Numbers the WebSocket sessions (deterministic ids, no Math.random). */
  nextWsId = 1;
  /** Links mode: `joined.access` for every join (undefined: Open mode, no field). */
  access: "owner" | "edit" | "view" | undefined = undefined;
  /** Links mode: joins are refused with `unauthorized` and this message. */
  denyJoins: string | null = null;
  /**
   * The server's rule for shared clientIds: a join is refused with `client_id_in_use` while another live, joined
   * session of another page (another `instance`) holds the same clientId.
   */
  oneSessionPerClientId = false;
  /** Refuses this many more joins with `client_id_in_use` whatever the rule says (a stale session of our own). */
  refuseJoins = 0;
  retryAfterMs = 1000;
  /** Joins get no answer while set (a document whose activation waits on a slow store); live pings still do. */
  holdJoins = false;

  /** Hangs every live session as a SIGSTOPped front end does: open sockets and streams, no frames either way. */
  freeze(): void {
    for (const session of this.sessions) session.frozen = true;
  }

  /** Closes every live session as the server does when their link is rotated (4403). */
  closeSessions(code: number, reason: string): void {
    for (const session of [...this.sessions]) session.close?.(code, reason);
  }

  releasePosts(): void {
    const held = this.held;
    this.held = [];
    for (const release of held) release();
  }

  /** Writes raw text to every open stream (comments, broken events…). */
  writeAll(text: string): void {
    for (const { controller } of this.streams.values()) controller.enqueue(encoder.encode(text));
  }

  /** Ends a stream as the server would: `close` event, then the end of the body. */
  closeStreams(code: number, reason: string): void {
    for (const [token, s] of this.streams) {
      s.controller.enqueue(encoder.encode(`data: ${JSON.stringify({ type: "close", code, reason })}\n\n`));
      s.controller.close();
      this.streams.delete(token);
      this.end(s.session);
    }
  }

  /** Forgets every SSE session without telling the client (an expired session, or another front end). */
  forgetSseSessions(): void {
    for (const [token, s] of this.streams) {
      this.streams.delete(token);
      this.end(s.session);
    }
  }

  private end(session: Session): void {
    session.alive = false;
    this.sessions.delete(session);
  }

  private handle(session: Session, via: "ws" | "sse", raw: string): void {
    if (session.frozen) return;
    const f = JSON.parse(raw) as Record<string, unknown>;
    this.received.push({ via, frame: f, at: Date.now(), bytes: encoder.encode(raw).length });
    const reply = (m: object) => session.send(m);
    if (encoder.encode(raw).length > this.maxMessageBytes) {
      reply({ type: "error", code: "too_large", message: `frames are limited to ${this.maxMessageBytes} bytes`, fatal: true });
      session.close?.(1009, "too large");
      return;
    }
    switch (f.type) {
      case "hello":
        session.clientId = String(f.clientId);
        session.instance = typeof f.instance === "string" ? f.instance : undefined;
        reply({ type: "welcome", sessionId: session.id, author: authorTag(session.clientId), heartbeatMs: this.heartbeatMs, maxMessageBytes: this.maxMessageBytes });
        break;
      case "ping": reply(f.t === undefined ? { type: "pong" } : { type: "pong", t: f.t }); break;
      case "join": {
        if (this.holdJoins) break;
        if (this.denyJoins !== null) { reply({ type: "error", code: "unauthorized", message: this.denyJoins, doc: "d" }); break; }
        const holder = [...this.sessions].some((s) => s !== session && s.alive && s.joined && s.clientId === session.clientId && s.instance !== session.instance);
        if (this.refuseJoins > 0 || (this.oneSessionPerClientId && holder)) {
          if (this.refuseJoins > 0) this.refuseJoins--;
          session.joined = false;
          reply({ type: "error", code: "client_id_in_use", message: "another live session holds this clientId for 'd'", doc: "d", retryAfterMs: this.retryAfterMs });
          break;
        }
        session.joined = true;
        const access = this.access === undefined ? {} : { access: this.access };
        const rev = f.rev as number | undefined;
        if ((rev === undefined || rev > this.doc.rev) && this.textPartChars !== null && this.doc.text.length > this.textPartChars) {
          const n = this.textPartChars;
          const parts = Math.ceil(this.doc.text.length / n);
          reply({ type: "joined", doc: "d", rev: this.doc.rev, ...access, parts, text: this.doc.text.slice(0, n) });
          for (let p = 2; p <= parts; p++) reply({ type: "text", doc: "d", rev: this.doc.rev, part: p, parts, text: this.doc.text.slice((p - 1) * n, p * n) });
        } else if (rev === undefined || rev > this.doc.rev) reply({ type: "joined", doc: "d", rev: this.doc.rev, text: this.doc.text, ...access });
        else reply({ type: "joined", doc: "d", rev: this.doc.rev, since: rev, ops: this.doc.log.slice(rev).map((c) => ({ rev: c.rev, op: c.op.toJSON(), author: authorTag(c.clientId), seq: c.seq })), ...access });
        break;
      }
      case "op": {
        if (this.access === "view") { reply({ type: "error", code: "forbidden", message: "your link to 'd' is view-only; ask its owner for an edit link", doc: "d", seq: f.seq }); break; }
        let result: ReturnType<SimDocument["submit"]>;
        try {
          result = this.doc.submit(session.clientId, f.seq as number, f.rev as number, TextOperation.fromJSON(f.op));
        } catch (error) {
          if (!this.onSubmitError) throw error;
          reply({ ...this.onSubmitError(error), seq: f.seq });
          break;
        }
        if ("duplicate" in result) { reply({ type: "ack", doc: "d", seq: f.seq, rev: result.duplicate }); break; }
        for (const s of this.sessions) {
          if (!s.joined) continue;
          if (s === session) reply({ type: "ack", doc: "d", seq: f.seq, rev: result.rev });
          else s.send({ type: "op", doc: "d", rev: result.rev, op: result.op.toJSON(), author: authorTag(result.clientId), seq: result.seq });
        }
        break;
      }
      default: break;
    }
  }

  // ---- fetch: GET /sse, POST /sse/<token> ----

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    const session = new Headers(init?.headers).get("Collab-Session") ?? undefined;
    const request: Request = { method, url: url.pathname, fullUrl: url.toString(), session, body: typeof init?.body === "string" ? init.body : undefined };
    this.requests.push(request);
    await Promise.resolve();
    if (init?.signal?.aborted) throw new DOMException("aborted", "AbortError");
    if (method === "GET" && url.pathname === "/sse") {
      if (!this.sseUp) throw new TypeError("fetch failed");
      const token = `t${this.nextToken++}`;
      let session!: Session;
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          session = {
            id: `sse-${token}`, clientId: "", joined: false, alive: true,
            send: (frame) => { if (session.alive && !session.frozen) controller.enqueue(encoder.encode(`data: ${JSON.stringify(frame)}\n\n`)); },
            close: (code, reason) => {
              if (!this.streams.delete(token)) return;
              controller.enqueue(encoder.encode(`data: ${JSON.stringify({ type: "close", code, reason })}\n\n`));
              controller.close();
              this.end(session);
            },
          };
          this.streams.set(token, { session, controller });
          this.sessions.add(session);
          controller.enqueue(encoder.encode(`data: ${JSON.stringify({ type: "transport", transport: "sse", postUrl: "/sse", session: token, heartbeatMs: this.heartbeatMs })}\n\n`));
        },
        cancel: () => {
          this.streams.delete(token);
          this.end(session);
        },
      });
      init?.signal?.addEventListener("abort", () => {
        if (this.streams.delete(token)) this.end(session);
      });
      return new Response(body, { status: 200, headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
    }
    if (method === "POST" && url.pathname === "/sse") {
      if (this.holdPosts) await new Promise<void>((ok) => this.held.push(ok));
      // A hung front end never answers a POST.
      if (session !== undefined && this.streams.get(session)?.session.frozen) await new Promise<void>(() => {});
      const forced = this.postStatuses.shift();
      const stream = session === undefined ? undefined : this.streams.get(session);
      const status = forced ?? (stream ? 202 : 404);
      request.status = status;
      if (status === 202 && stream) for (const line of request.body!.split("\n")) this.handle(stream.session, "sse", line);
      return new Response(null, { status });
    }
    return new Response("not found", { status: 404 });
  };

  // ---- WebSocket ----

  readonly webSocket = (() => {
    const hub = this;
    return class FakeWebSocket {
      readyState = 0;
      onopen: (() => void) | null = null;
      onmessage: ((e: { data: string }) => void) | null = null;
      onclose: ((e: { code: number; reason: string }) => void) | null = null;
      onerror: (() => void) | null = null;
      private session: Session | null = null;
      readonly behaviour: WsBehaviour;
      constructor() {
        this.behaviour = hub.ws;
        hub.wsAttempts.push(this.behaviour);
        setTimeout(() => {
          if (this.readyState === 3) return;
          if (this.behaviour === "fail") {
            this.readyState = 3;
            this.onerror?.();
            this.onclose?.({ code: 1006, reason: "" });
            return;
          }
          this.readyState = 1;
          this.onopen?.();
          if (this.behaviour === "refuse-after-open") this.close(1006);
          if (this.behaviour !== "ok") return;
          const session: Session = {
            id: `ws-${hub.nextWsId++}`, clientId: "", joined: false, alive: true,
            send: (frame) => setTimeout(() => { if (this.readyState === 1 && !session.frozen) this.onmessage?.({ data: JSON.stringify(frame) }); }, 0),
            close: (code, reason) => {
              if (this.readyState === 3) return;
              this.readyState = 3;
              hub["end"](session);
              setTimeout(() => this.onclose?.({ code, reason }), 0);
            },
          };
          this.session = session;
          hub.sessions.add(session);
        }, 0);
      }
      send(data: string): void {
        setTimeout(() => { if (this.readyState === 1 && this.session) hub["handle"](this.session, "ws", data); }, 0);
      }
      close(code = 1000): void {
        if (this.readyState === 3) return;
        this.readyState = 3;
        if (this.session) hub["end"](this.session);
        setTimeout(() => this.onclose?.({ code, reason: "" }), 0);
      }
    } as unknown as typeof WebSocket;
  })();
}

export class MemoryStorage {
  readonly map = new Map<string, string>();
  getItem(k: string): string | null { return this.map.get(k) ?? null; }
  setItem(k: string, v: string): void { this.map.set(k, v); }
}
