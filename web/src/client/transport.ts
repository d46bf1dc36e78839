/**
 * Transports carrying collab.v1 frames: the WebSocket, and the fallback of Server-Sent Events (server → client)
 * plus HTTP POST (client → server) for networks where the WebSocket upgrade fails or is buffered. Both carry the
 * same frames with the same session semantics; the connection (connection.ts) picks one (transportPolicy.ts).
 */
import { CLOSE_HEARTBEAT_TIMEOUT, SUBPROTOCOL } from "./protocol";

export type TransportKind = "websocket" | "sse";

/** What the editor shows for each transport. */
export const TRANSPORT_LABEL: Record<TransportKind, string> = {
  websocket: "WebSocket",
  sse: "HTTP streaming (fallback)",
};

/** Why a transport ended (not reported when the client itself closed it). */
export interface TransportClose {
  /** A WebSocket close code; the SSE transport uses the server's `close` event's code or one of the SSE_* codes. */
  code: number;
  reason: string;
  /** Whether the transport had opened (WebSocket open; SSE: the stream's `transport` event arrived). */
  opened: boolean;
}

export interface TransportEvents {
  /** Ready to carry frames: send `hello`. */
  open(): void;
  /** One collab.v1 frame (JSON text). */
  message(data: string): void;
  /** Something arrived that is not a frame (an SSE heartbeat comment): the connection is alive. */
  alive(): void;
  /** The transport is gone. Called at most once, never after close(). */
  close(info: TransportClose): void;
}

export interface Transport {
  readonly kind: TransportKind;
  /**
   * Sends (or queues) one frame. Ignored once closed. `now`: the frame needs no order (a live ping), so the fallback
   * POSTs it at once instead of behind a POST still in flight.
   */
  send(data: string, now?: boolean): void;
  /** Closes without reporting a close event. */
  close(code?: number, reason?: string): void;
}

/** Close codes of the SSE transport for failures that have no server close code. */
export const SSE_DROPPED = 1006;
/** A POST was answered 404: the server no longer knows the session (expired, or another front end). Resume. */
export const SSE_SESSION_GONE = 4404;
/** No event or comment for 2.5 heartbeats (the client's side of the server's heartbeat timeout). */
export const SSE_SILENT = CLOSE_HEARTBEAT_TIMEOUT;

export class WebSocketTransport implements Transport {
  readonly kind = "websocket";
  readonly socket: WebSocket;
  private opened = false;

  constructor(url: string, events: TransportEvents, Impl: typeof WebSocket = WebSocket) {
    const socket = new Impl(url, SUBPROTOCOL);
    this.socket = socket;
    socket.onopen = () => {
      this.opened = true;
      events.open();
    };
    socket.onmessage = (event: MessageEvent) => events.message(String(event.data));
    socket.onclose = (event: CloseEvent) => {
      this.detach();
      events.close({ code: event.code, reason: event.reason ?? "", opened: this.opened });
    };
    socket.onerror = () => {
      // onclose follows
    };
  }

  send(data: string): void {
    if (this.socket.readyState === 1) this.socket.send(data);
  }

  close(code = 1000, reason = ""): void {
    this.detach();
    try {
      this.socket.close(code, reason);
    } catch {
      // already closing
    }
  }

  private detach(): void {
    const s = this.socket;
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Server-Sent Events

/**
 * An incremental parser of the text/event-stream format (WHATWG HTML, "Server-sent events"): lines end with CRLF,
 * LF or CR; a blank line dispatches the event; `:` starts a comment; `data` lines join with LF; a leading BOM and
 * one space after the colon are dropped. Only `data` and `event` matter here (no `id`/`retry`: the transport
 * never lets the browser reconnect by itself).
 */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private eventType = "";
  private started = false;
  /** The previous chunk ended with CR: a LF at the start of the next one belongs to it. */
  private pendingCr = false;

  constructor(private readonly onEvent: (data: string, type: string) => void, private readonly onComment: (text: string) => void = () => {}) {}

  feed(text: string): void {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf("\r", start);
      const lf = this.buffer.indexOf("\n", start);
      if (cr < 0 && lf < 0) break;
      let end: number;
      let next: number;
      if (lf >= 0 && (cr < 0 || lf < cr)) {
        end = lf;
        next = lf + 1;
      } else {
        end = cr;
        if (cr + 1 < this.buffer.length) next = this.buffer[cr + 1] === "\n" ? cr + 2 : cr + 1;
        else {
          next = cr + 1;
          this.pendingCr = true;
        }
      }
      this.line(this.buffer.slice(start, end));
      start = next;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === "") {
      if (this.data.length > 0) {
        const data = this.data.join("\n");
        const type = this.eventType || "message";
        this.data = [];
        this.eventType = "";
        this.onEvent(data, type);
      } else this.eventType = "";
      return;
    }
    if (line.startsWith(":")) {
      this.onComment(line.slice(1).replace(/^ /, ""));
      return;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.eventType = value;
  }
}

/** The first event of a stream (docs/protocol.md, fallback transport). */
export interface SseTransportFrame {
  type: "transport";
  transport: "sse";
  postUrl: string;
  /** The session's secret: sent only in the SESSION_HEADER of each POST, never in a URL (proxies log URLs). */
  session: string;
  heartbeatMs: number;
}

/** The request header naming the fallback session on every POST. */
export const SESSION_HEADER = "Collab-Session";

export interface SseTransportOptions {
  /** The stream's URL, e.g. https://host/sse. */
  url: string;
  fetch?: typeof fetch;
  /** Frames queued while a POST is in flight go out together, up to this many bytes per POST (one frame at least). */
  maxBatchBytes?: number;
}

const utf8Length = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
};

/**
 * collab.v1 over Server-Sent Events and POST. The stream is read with fetch (not EventSource) because EventSource
 * hides the HTTP status and the heartbeat comments, and reconnects by itself — a new stream is a new session on the
 * server, so only the connection may decide to open one (and then resume with join+rev).
 *
 * The stream's first event gives the POST URL and the session's token; every POST carries the token in the
 * Collab-Session header, so no URL holds it. Client frames are POSTed one request at a time, in order: frames sent while a POST is in flight wait and go out
 * together in the next one (separated by LF). A 404 ends the transport with SSE_SESSION_GONE; any other failure of
 * the stream or of a POST ends it too (the connection reconnects and resumes; resends are exactly-once).
 */
export class SseTransport implements Transport {
  readonly kind = "sse";
  /** Set by the stream's first event. */
  postUrl: string | null = null;
  /** Set by the stream's first event: the secret for the Collab-Session header. */
  session: string | null = null;
  heartbeatMs = 0;
  /** Frames waiting for the POST in flight to complete. */
  readonly queue: string[] = [];
  private opened = false;
  private closed = false;
  private inFlight = false;
  private lastActivity = Date.now();
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private readonly abort = new AbortController();
  private readonly fetchImpl: typeof fetch;
  private readonly maxBatchBytes: number;

  constructor(private readonly options: SseTransportOptions, private readonly events: TransportEvents) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.maxBatchBytes = options.maxBatchBytes ?? 64 * 1024;
    void this.readStream();
  }

  send(data: string, now = false): void {
    if (this.closed) return;
    if (now && this.opened) {
      this.post(data, false);
      return;
    }
    this.queue.push(data);
    this.pump();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop();
  }

  private fail(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.stop();
    this.events.close({ code, reason, opened: this.opened });
  }

  private stop(): void {
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
    this.queue.length = 0;
    this.abort.abort();
  }

  private async readStream(): Promise<void> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.options.url, {
        headers: { Accept: "text/event-stream" },
        cache: "no-store",
        credentials: "same-origin",
        signal: this.abort.signal,
      });
    } catch {
      this.fail(SSE_DROPPED, "the stream could not be opened");
      return;
    }
    const type = response.headers.get("content-type") ?? "";
    if (!response.ok || !response.body || !type.toLowerCase().startsWith("text/event-stream")) {
      this.fail(SSE_DROPPED, `GET ${this.options.url}: ${response.status} ${type}`.trim());
      void response.body?.cancel().catch(() => {});
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser((data) => this.event(data), () => this.activity());
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.closed) break;
        if (done) break;
        this.activity();
        parser.feed(decoder.decode(value, { stream: true }));
        if (this.closed) break;
      }
    } catch {
      // aborted, or the network went away
    }
    if (this.closed) {
      void reader.cancel().catch(() => {});
      return;
    }
    this.fail(SSE_DROPPED, "the stream ended");
  }

  private activity(): void {
    this.lastActivity = Date.now();
    if (this.opened && !this.closed) this.events.alive();
  }

  private event(data: string): void {
    if (this.closed) return;
    let frame: { type?: unknown; code?: unknown; reason?: unknown; postUrl?: unknown; session?: unknown; heartbeatMs?: unknown };
    try {
      frame = JSON.parse(data) as typeof frame;
    } catch {
      if (this.opened) this.events.message(data); // let the connection see (and ignore) it
      return;
    }
    if (!this.opened) {
      if (frame.type !== "transport" || typeof frame.postUrl !== "string" || typeof frame.session !== "string" || frame.session === "") {
        this.fail(SSE_DROPPED, "the stream did not start with a 'transport' event");
        return;
      }
      this.postUrl = new URL(frame.postUrl, this.options.url).toString();
      this.session = frame.session;
      this.heartbeatMs = typeof frame.heartbeatMs === "number" && frame.heartbeatMs > 0 ? frame.heartbeatMs : 20_000;
      this.opened = true;
      this.startWatchdog();
      this.events.open();
      this.pump();
      return;
    }
    if (frame.type === "close") {
      this.fail(typeof frame.code === "number" ? frame.code : SSE_DROPPED, typeof frame.reason === "string" ? frame.reason : "");
      return;
    }
    this.events.message(data);
  }

  /** A stream without any event or comment for 2.5 heartbeats is dead, even if TCP has not noticed. */
  private startWatchdog(): void {
    const limit = 2.5 * this.heartbeatMs;
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastActivity > limit) this.fail(SSE_SILENT, `no event for ${limit} ms`);
    }, Math.max(100, Math.floor(this.heartbeatMs / 4)));
  }

  private pump(): void {
    if (this.closed || !this.opened || this.inFlight || this.queue.length === 0 || !this.postUrl || !this.session) return;
    let bytes = utf8Length(this.queue[0]!);
    let count = 1;
    while (count < this.queue.length) {
      const next = utf8Length(this.queue[count]!) + 1;
      if (bytes + next > this.maxBatchBytes) break;
      bytes += next;
      count++;
    }
    const body = this.queue.splice(0, count).join("\n");
    this.post(body, true);
  }

  /** One POST; `ordered` ones go one at a time (the next waits for this one), the others beside them. */
  private post(body: string, ordered: boolean): void {
    if (!this.postUrl || !this.session) return;
    if (ordered) this.inFlight = true;
    this.fetchImpl(this.postUrl, {
      method: "POST",
      headers: { "Content-Type": "text/plain", [SESSION_HEADER]: this.session },
      body,
      cache: "no-store",
      credentials: "same-origin",
      signal: this.abort.signal,
    }).then((response) => {
      if (ordered) this.inFlight = false;
      void response.body?.cancel().catch(() => {});
      if (this.closed) return;
      if (response.ok) this.pump();
      else if (response.status === 404) this.fail(SSE_SESSION_GONE, "the server no longer knows this session");
      else if (response.status === 413) this.fail(1009, "frame too large");
      else this.fail(SSE_DROPPED, `POST: ${response.status}`);
    }, () => {
      if (ordered) this.inFlight = false;
      this.fail(SSE_DROPPED, "POST failed");
    });
  }
}
