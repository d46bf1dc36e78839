/**
 * One collab.v1 session shared by the documents of a tab: hello with a stable clientId, heartbeat pings,
 * automatic reconnect with exponential backoff and full jitter. Documents register a handler and (re)join
 * whenever the connection is (re)established; frames are routed to them by `doc`.
 *
 * The session runs over a WebSocket or, where that cannot be established, over SSE+POST (transport.ts); the
 * choice is made by TransportPolicy (transportPolicy.ts) and is invisible to the documents.
 */
import { CLOSE_EXPIRED, CLOSE_REVOKED, type ClientFrame, type JoinedFrame, type ServerFrame, type UserInfo, type WelcomeFrame } from "./protocol";
import { newTabClientId, randomId } from "./ids";
import { SseTransport, TRANSPORT_LABEL, WebSocketTransport, type Transport, type TransportClose, type TransportKind } from "./transport";
import { TransportPolicy } from "./transportPolicy";

/**
 * `revoked`: the server closed the session with 4403 (its share link was rotated, or its token revoked); `expired`: with
 * 4401 (its token expired unrefreshed). Neither reconnects: the same credential would only be refused.
 */
export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "offline" | "revoked" | "expired";

/** What a document needs from the connection. */
export interface ConnectionHandler {
  /** The socket is open and welcomed: join (again). */
  opened(): void;
  /** A frame for this document. */
  frame(frame: ServerFrame): void;
  /** The socket is gone; a new one will be tried. */
  closed(): void;
  /** The page takes a new clientId (the old one is another live tab's); called before the reconnect under it. */
  rekeyed?(oldClientId: string, newClientId: string): void;
  /** Another tab asked whether our clientId is live and got no answer in time (it may have restored our outbox). */
  asked?(): void;
}

/** Whether another live tab of this browser holds a clientId (TabIdentity in the browser). */
export interface ClientIdGuard {
  claimedElsewhere(clientId: string): Promise<boolean>;
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export interface ConnectionOptions {
  /** The WebSocket URL (ws[s]://host/ws). */
  url: string;
  /** The SSE stream URL (http[s]://host/sse) of the fallback transport; without it, WebSocket only. */
  sseUrl?: string;
  clientId: string;
  /**
   * This page load's id, sent in every `hello` (default: random, per connection object). Memory only: a reload or a
   * duplicated tab is another page, so the server can tell a reconnect of this page (which may take over its own stale
   * session) from another page with the same clientId (refused with `client_id_in_use`).
   */
  instance?: string;
  /** Asked on `client_id_in_use`: whether a live tab claims our clientId (then we take a new one). */
  guard?: ClientIdGuard;
  /** A fresh clientId (default ids.ts's newTabClientId). */
  newClientId?: () => string;
  user?: UserInfo;
  /** A share link's token (Links mode) or a JWT (Tokens mode), sent in every `hello`; see `refreshToken`. */
  token?: string;
  backoff?: BackoffOptions;
  /** The reconnect backoff's jitter source, in [0, 1) (default Math.random). */
  random?: () => number;
  /** Where the tab's transport choice is kept (sessionStorage in the browser). */
  transportStore?: Pick<Storage, "getItem" | "setItem"> | null;
  /** While on the fallback, every this-many-th connection tries the WebSocket again (default 5). */
  retryWebSocketEvery?: number;
  /** A transport that has not answered `hello` within this long is given up (a WebSocket: fall back). Default 4000. */
  helloTimeoutMs?: number;
  /**
   * A connection that stayed welcomed this long resets the reconnect backoff (default 10 000 ms). Shorter-lived ones
   * keep backing off, so a server that closes every connection soon after the welcome is not hammered.
   */
  stableMs?: number;
  /**
   * Liveness: after this long without any frame the connection sends a live `ping` (default 1000 ms), and a live ping
   * that nothing at all follows within `livenessTimeoutMs` (default 2000 ms) means the front end hangs: the connection
   * drops it and resumes on a new one, so a frozen front end costs at most about 3.5 s. The server answers a live ping as
   * soon as it reads it, not behind earlier frames that may wait on a slow document, so a healthy front end is not
   * mistaken for a hung one.
   */
  livenessMs?: number;
  livenessTimeoutMs?: number;
  /** For tests outside a browser. */
  webSocket?: typeof WebSocket;
  fetch?: typeof fetch;
}

/** Exponential backoff with full jitter: a random delay in [base, min(max, base·2^attempt)]. */
export function backoffDelay(attempt: number, { baseMs, maxMs }: BackoffOptions, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(baseMs + random() * Math.max(0, ceiling - baseMs));
}

export class CollabConnection {
  status: ConnectionStatus = "connecting";
  welcome: WelcomeFrame | null = null;
  /** Consecutive attempts that did not last (see `stableMs`); the reconnect delay grows with it. */
  attempt = 0;
  /** When the current transport was welcomed (ms since epoch), or null. */
  private welcomedAt: number | null = null;
  /** Full texts arriving in parts (`joined` with `parts`, then `text` frames), by document. */
  private readonly partial = new Map<string, { joined: JoinedFrame; texts: string[]; parts: number }>();
  /** When the next attempt is due (ms since epoch), while waiting to reconnect. */
  nextAttemptAt: number | null = null;
  /** The transport of the current (or last) attempt. */
  transportKind: TransportKind = "websocket";
  readonly policy: TransportPolicy;
  /** The close that ended the connection for good (4403), if one did. */
  revokedBy: TransportClose | null = null;

  private current: Transport | null = null;
  /** Whether the current transport has delivered any frame / the welcome. */
  private received = false;
  /** Whether the current transport has opened (hello may go out). */
  private opened = false;
  private helloTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly handlers = new Map<string, ConnectionHandler>();
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private lastReceivedAt = 0;
  private forcedOffline = false;
  private stopped = false;
  private readonly backoff: BackoffOptions;
  private readonly clientIdListeners = new Set<(clientId: string) => void>();
  private refusalCheck: Promise<boolean> | null = null;
  /** This page load's id (see ConnectionOptions.instance). */
  readonly instance: string;

  constructor(private readonly options: ConnectionOptions) {
    this.backoff = options.backoff ?? { baseMs: 300, maxMs: 8000 };
    this.instance = options.instance ?? randomId(16);
    this.policy = new TransportPolicy({
      store: options.transportStore ?? null,
      fallback: options.sseUrl !== undefined,
      retryWebSocketEvery: options.retryWebSocketEvery,
    });
    this.transportKind = this.policy.mode;
  }

  /** What the editor shows: "WebSocket" or "HTTP streaming (fallback)". */
  get transport(): string {
    return TRANSPORT_LABEL[this.transportKind];
  }

  /** The transport in use, if any. */
  get activeTransport(): Transport | null {
    return this.current;
  }

  /** The tab's secret identity towards the server (hello); never shown to, nor received from, other sessions. */
  get clientId(): string {
    return this.options.clientId;
  }

  /** This session's public tag (from `welcome`; null until welcomed). It may change with every connection. */
  get author(): string | null {
    return this.welcome?.author ?? null;
  }

  /** Called with the new clientId when the page takes one (to keep it in sessionStorage). */
  onClientId(listener: (clientId: string) => void): () => void {
    this.clientIdListeners.add(listener);
    return () => this.clientIdListeners.delete(listener);
  }

  /** Another tab asked for our clientId too late for our answer (TabIdentity's onAskedLate): see DocSession.rekeyed. */
  clientIdAsked(): void {
    for (const handler of [...this.handlers.values()]) handler.asked?.();
  }

  /**
   * A join was answered `client_id_in_use`. Asks the guard (once for all documents refused together) whether a live
   * tab claims our clientId: if so, takes a new one, tells the documents (rekeyed) and reconnects under it, and
   * resolves true; otherwise the session in the way is our own stale one and the caller retries the join (false).
   */
  clientIdRefused(): Promise<boolean> {
    this.refusalCheck ??= (async () => {
      const old = this.options.clientId;
      let claimed = false;
      try {
        claimed = (await this.options.guard?.claimedElsewhere(old)) ?? false;
      } catch {
        claimed = false;
      }
      if (!claimed || this.stopped || this.options.clientId !== old) return false;
      const next = (this.options.newClientId ?? newTabClientId)();
      for (const handler of [...this.handlers.values()]) handler.rekeyed?.(old, next);
      this.options.clientId = next;
      for (const listener of [...this.clientIdListeners]) listener(next);
      // hello is once per socket: the new clientId needs a new one. The documents join again when it is welcomed.
      if (this.current) this.drop("new clientId");
      return true;
    })().finally(() => {
      this.refusalCheck = null;
    });
    return this.refusalCheck;
  }

  start(): void {
    this.connect();
  }

  /** Registers a document; if the socket is already welcomed the document joins at once. */
  register(doc: string, handler: ConnectionHandler): void {
    this.handlers.set(doc, handler);
    if (this.welcome) handler.opened();
  }

  unregister(doc: string): void {
    if (this.handlers.delete(doc)) this.send({ type: "leave", doc });
  }

  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Sends a frame if the socket is welcomed (hello and ping go out earlier). Returns whether it went out. */
  send(frame: ClientFrame): boolean {
    const transport = this.current;
    if (!transport || !this.opened || (!this.welcome && frame.type !== "hello" && frame.type !== "ping")) return false;
    transport.send(JSON.stringify(frame), frame.type === "ping" && frame.live === true);
    return true;
  }


  /** A new name or colour: `hello` is once per socket, so start a new one (documents resume seamlessly). */
  setUser(user: UserInfo): void {
    this.options.user = user;
    if (this.current) this.drop("user changed");
  }

  /** Stop using the network (the browser went offline, or a test asks): edits keep accumulating. */
  goOffline(): void {
    this.forcedOffline = true;
    this.clearRetry();
    this.drop("offline");
    this.setStatus("offline");
  }

  /** Reconnect now, resetting the backoff. */
  goOnline(): void {
    this.forcedOffline = false;
    this.attempt = 0;
    this.clearRetry();
    if (!this.current) this.connect();
  }

  /** Closes for good (the page is going away). */
  stop(): void {
    this.stopped = true;
    this.clearRetry();
    const transport = this.current;
    this.detach();
    transport?.close(1000, "bye");
  }

  private connect(kind: TransportKind = this.policy.next()): void {
    if (this.stopped || this.forcedOffline) return;
    this.nextAttemptAt = null;
    this.setStatus(this.attempt === 0 && this.status === "connecting" ? "connecting" : "reconnecting");
    this.transportKind = kind;
    this.received = false;
    this.opened = false;
    let transport: Transport | null = null;
    const events = {
      open: () => {
        if (this.current !== transport) return;
        this.opened = true;
        this.lastReceivedAt = Date.now();
        const hello: ClientFrame = { type: "hello", clientId: this.options.clientId, instance: this.instance };
        if (this.options.user) hello.user = this.options.user;
        if (this.options.token) hello.token = this.options.token;
        this.send(hello);
        // A proxy may accept the upgrade and then hold every frame back: no answer to hello means no transport.
        this.helloTimer = setTimeout(() => {
          this.helloTimer = null;
          if (this.current !== transport || this.welcome) return;
          transport?.close(4000, "no answer to hello");
          this.transportGone({ code: 4000, reason: "no answer to hello", opened: true });
        }, this.options.helloTimeoutMs ?? 4000);
      },
      message: (data: string) => {
        if (this.current !== transport) return;
        this.lastReceivedAt = Date.now();
        this.received = true;
        let frame: ServerFrame;
        try {
          frame = JSON.parse(data) as ServerFrame;
        } catch {
          return;
        }
        this.receive(frame);
      },
      alive: () => {
        if (this.current === transport) this.lastReceivedAt = Date.now();
      },
      close: (info: TransportClose) => {
        if (this.current === transport) this.transportGone(info);
      },
    };
    try {
      transport = kind === "websocket"
        ? new WebSocketTransport(this.options.url, events, this.options.webSocket ?? WebSocket)
        : new SseTransport({ url: this.options.sseUrl!, fetch: this.options.fetch }, events);
    } catch {
      this.transportGone({ code: 1006, reason: "could not create the transport", opened: false });
      return;
    }
    this.current = transport;
  }

  /** The transport ended by itself (or gave no answer to hello). */
  private transportGone(info: TransportClose): void {
    const kind = this.transportKind;
    const neverWorked = !this.received;
    this.detach();
    if (info.code === CLOSE_REVOKED || info.code === CLOSE_EXPIRED) {
      // The credential was revoked or expired: reconnecting with it would only be refused. Stay down until the page
      // gets a new one.
      this.stopped = true;
      this.clearRetry();
      this.revokedBy = info;
      this.setStatus(info.code === CLOSE_EXPIRED ? "expired" : "revoked");
      this.notifyClosed();
      return;
    }
    this.notifyClosed();
    if (kind === "websocket" && neverWorked) {
      // The WebSocket could not be established, or nothing came through it: try the fallback right away.
      const fallback = this.policy.webSocketFailed();
      if (fallback && !this.stopped && !this.forcedOffline) {
        this.connect(fallback);
        return;
      }
    }
    // 1001 (shutdown), 4408 (heartbeat timeout), 4409 (queue overflow), SSE session gone: the session ended, the
    // server is fine: reconnect and resume at once. 1006 (dropped), 1011 and the rest: reconnect with backoff.
    // Whatever the code, a connection that lasted comes back at the base delay; one that ended soon after its welcome
    // (a server that keeps closing it, a frame it keeps refusing) keeps backing off instead of reconnecting in a loop.
    const stable = this.welcomedAt !== null && Date.now() - this.welcomedAt >= (this.options.stableMs ?? 10000);
    if (stable) this.attempt = 0;
    this.welcomedAt = null;
    this.scheduleReconnect();
  }

  /**
   * A fresh credential (Tokens mode: before the current one's `exp`): sent at once in `auth` on a live session, which
   * stays open, and in every later `hello`.
   */
  refreshToken(token: string): void {
    this.options.token = token;
    if (this.welcome) this.send({ type: "auth", token });
  }

  private receive(frame: ServerFrame): void {
    if (frame.type === "authed") {
      // Signing in may qualify the session's key by the user: its tag is then the one the server names.
      if (frame.author && this.welcome) this.welcome = { ...this.welcome, author: frame.author };
      return;
    }
    if (frame.type === "welcome") {
      this.welcome = frame;
      this.welcomedAt = Date.now();
      this.clearHelloTimer();
      this.policy.welcomed(this.transportKind);
      this.startHeartbeat(frame.heartbeatMs);
      this.setStatus("connected");
      for (const handler of [...this.handlers.values()]) handler.opened();
      return;
    }
    if (frame.type === "pong") return;
    if (frame.type === "error" && frame.fatal) return; // the close that follows drives the reconnect
    if (frame.type === "joined" && (frame.parts ?? 1) > 1) {
      // A text too large for one frame: hold it until its parts are in (they come next, in order).
      this.partial.set(frame.doc, { joined: frame, texts: [frame.text ?? ""], parts: frame.parts! });
      return;
    }
    if (frame.type === "text") {
      const held = this.partial.get(frame.doc);
      if (!held || frame.rev !== held.joined.rev || frame.part !== held.texts.length + 1) {
        // Out of order cannot happen on one ordered connection; treat it as a broken stream.
        this.partial.delete(frame.doc);
        this.drop("text parts out of order");
        return;
      }
      held.texts.push(frame.text);
      if (held.texts.length < held.parts) return;
      this.partial.delete(frame.doc);
      const { parts: _parts, ...joined } = held.joined;
      this.handlers.get(frame.doc)?.frame({ ...joined, text: held.texts.join("") });
      return;
    }
    const doc = "doc" in frame ? frame.doc : undefined;
    if (doc !== undefined) this.handlers.get(doc)?.frame(frame);
  }

  /**
   * Keep-alive and liveness in one timer. A live ping goes out after `livenessMs` of silence, and at least every
   * `heartbeatMs` (proxies and the fallback's idle limit want traffic upstream too); one at a time. When a live ping
   * has had nothing at all after it for `livenessTimeoutMs`, the front end is gone even if the socket has not noticed.
   * Judging by the ping rather than by the time since the last frame keeps a throttled timer (a hidden tab checks
   * about once a minute) from mistaking its own long sleep for a dead connection.
   */
  private startHeartbeat(heartbeatMs: number): void {
    this.stopHeartbeat();
    const keepAlive = Math.max(1000, heartbeatMs);
    const silence = Math.max(100, this.options.livenessMs ?? 1000);
    const timeout = Math.max(100, this.options.livenessTimeoutMs ?? 2000);
    let pingedAt: number | null = null;
    let lastPingAt = Date.now();
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      if (pingedAt !== null && this.lastReceivedAt >= pingedAt) pingedAt = null;
      if (pingedAt !== null) {
        if (now - pingedAt > timeout) this.drop("heartbeat timeout");
        return;
      }
      if (now - this.lastReceivedAt >= silence || now - lastPingAt >= keepAlive) {
        pingedAt = lastPingAt = now;
        this.send({ type: "ping", t: now, live: true });
      }
    }, Math.max(25, Math.min(250, Math.floor(silence / 4))));
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /** Closes the current socket without waiting for the close handshake, then reconnects (unless offline). */
  private drop(reason: string): void {
    const transport = this.current;
    if (!transport) return;
    this.detach();
    transport.close(4000, reason);
    this.notifyClosed();
    if (!this.forcedOffline && !this.stopped) {
      this.attempt = 0;
      this.scheduleReconnect(50);
    }
  }

  private detach(): void {
    this.current = null;
    this.partial.clear();
    this.opened = false;
    this.welcome = null;
    this.clearHelloTimer();
    this.stopHeartbeat();
  }

  private clearHelloTimer(): void {
    if (this.helloTimer !== null) clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  private notifyClosed(): void {
    for (const handler of [...this.handlers.values()]) handler.closed();
  }

  private scheduleReconnect(delayMs?: number): void {
    if (this.stopped || this.forcedOffline) return;
    this.clearRetry();
    const browserOffline = typeof navigator !== "undefined" && navigator.onLine === false;
    const delay = delayMs ?? backoffDelay(this.attempt, this.backoff, this.options.random ?? Math.random);
    this.attempt++;
    this.nextAttemptAt = Date.now() + delay;
    this.setStatus(browserOffline ? "offline" : "reconnecting");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.nextAttemptAt = null;
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.status && status !== "reconnecting") return;
    if (this.status === "revoked" || this.status === "expired") return; // final
    this.status = status;
    for (const listener of [...this.statusListeners]) listener(status);
  }
}
