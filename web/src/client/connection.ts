/**
 * One collab.v1 WebSocket shared by the documents of a tab: hello with a stable clientId, heartbeat pings,
 * automatic reconnect with exponential backoff and full jitter. Documents register a handler and (re)join
 * whenever the connection is (re)established; frames are routed to them by `doc`.
 */
import { CLOSE_QUEUE_OVERFLOW, CLOSE_SERVER_SHUTDOWN, SUBPROTOCOL, type ClientFrame, type ServerFrame, type UserInfo, type WelcomeFrame } from "./protocol";

export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "offline";

/** What a document needs from the connection. */
export interface ConnectionHandler {
  /** The socket is open and welcomed: join (again). */
  opened(): void;
  /** A frame for this document. */
  frame(frame: ServerFrame): void;
  /** The socket is gone; a new one will be tried. */
  closed(): void;
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export interface ConnectionOptions {
  url: string;
  clientId: string;
  user?: UserInfo;
  backoff?: BackoffOptions;
  /** For tests outside a browser. */
  webSocket?: typeof WebSocket;
}

/** Exponential backoff with full jitter: a random delay in [base, min(max, base·2^attempt)]. */
export function backoffDelay(attempt: number, { baseMs, maxMs }: BackoffOptions, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(baseMs + random() * Math.max(0, ceiling - baseMs));
}

export class CollabConnection {
  status: ConnectionStatus = "connecting";
  welcome: WelcomeFrame | null = null;
  /** Consecutive failed attempts; 0 once welcomed. */
  attempt = 0;
  /** When the next attempt is due (ms since epoch), while waiting to reconnect. */
  nextAttemptAt: number | null = null;
  /** Which transport carries the session (only WebSocket in collab.v1 today). */
  readonly transport = "WebSocket";

  private socket: WebSocket | null = null;
  private readonly handlers = new Map<string, ConnectionHandler>();
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private lastReceivedAt = 0;
  private forcedOffline = false;
  private stopped = false;
  private readonly backoff: BackoffOptions;

  constructor(private readonly options: ConnectionOptions) {
    this.backoff = options.backoff ?? { baseMs: 300, maxMs: 8000 };
  }

  get clientId(): string {
    return this.options.clientId;
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
    const socket = this.socket;
    if (!socket || socket.readyState !== 1 || (!this.welcome && frame.type !== "hello" && frame.type !== "ping")) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  /** A new name or colour: `hello` is once per socket, so start a new one (documents resume seamlessly). */
  setUser(user: UserInfo): void {
    this.options.user = user;
    if (this.socket) this.drop("user changed");
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
    if (!this.socket) this.connect();
  }

  /** Closes for good (the page is going away). */
  stop(): void {
    this.stopped = true;
    this.clearRetry();
    const socket = this.socket;
    this.detach();
    socket?.close(1000, "bye");
  }

  private connect(): void {
    if (this.stopped || this.forcedOffline) return;
    this.nextAttemptAt = null;
    this.setStatus(this.attempt === 0 && this.status === "connecting" ? "connecting" : "reconnecting");
    const Impl = this.options.webSocket ?? WebSocket;
    let socket: WebSocket;
    try {
      socket = new Impl(this.options.url, SUBPROTOCOL);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.lastReceivedAt = Date.now();
      const hello: ClientFrame = { type: "hello", clientId: this.options.clientId };
      if (this.options.user) hello.user = this.options.user;
      this.send(hello);
    };
    socket.onmessage = (event: MessageEvent) => {
      this.lastReceivedAt = Date.now();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as ServerFrame;
      } catch {
        return;
      }
      this.receive(frame);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      // 1001 (shutdown), 4409 (queue overflow), 1006 (dropped), 1011: all mean "reconnect and resume".
      if (event.code === CLOSE_SERVER_SHUTDOWN || event.code === CLOSE_QUEUE_OVERFLOW) this.attempt = 0;
      this.onSocketGone();
    };
    socket.onerror = () => {
      // onclose follows; nothing to do here.
    };
  }

  private receive(frame: ServerFrame): void {
    if (frame.type === "welcome") {
      this.welcome = frame;
      this.attempt = 0;
      this.startHeartbeat(frame.heartbeatMs);
      this.setStatus("connected");
      for (const handler of [...this.handlers.values()]) handler.opened();
      return;
    }
    if (frame.type === "pong") return;
    if (frame.type === "error" && frame.fatal) return; // the close that follows drives the reconnect
    const doc = "doc" in frame ? frame.doc : undefined;
    if (doc !== undefined) this.handlers.get(doc)?.frame(frame);
  }

  private startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    const interval = Math.max(1000, intervalMs);
    this.heartbeatTimer = setInterval(() => {
      // No frame (not even the pong to our last ping) for two intervals: the connection is dead even if the
      // socket has not noticed; drop it and resume on a new one.
      if (Date.now() - this.lastReceivedAt > 2 * interval + 1000) {
        this.drop("heartbeat timeout");
        return;
      }
      this.send({ type: "ping", t: Date.now() });
    }, interval);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /** Closes the current socket without waiting for the close handshake, then reconnects (unless offline). */
  private drop(reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    this.detach();
    try {
      socket.close(4000, reason);
    } catch {
      // already closing
    }
    this.notifyClosed();
    if (!this.forcedOffline && !this.stopped) {
      this.attempt = 0;
      this.scheduleReconnect(50);
    }
  }

  private onSocketGone(): void {
    this.detach();
    this.notifyClosed();
    this.scheduleReconnect();
  }

  private detach(): void {
    const socket = this.socket;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    }
    this.socket = null;
    this.welcome = null;
    this.stopHeartbeat();
  }

  private notifyClosed(): void {
    for (const handler of [...this.handlers.values()]) handler.closed();
  }

  private scheduleReconnect(delayMs?: number): void {
    if (this.stopped || this.forcedOffline) return;
    this.clearRetry();
    const browserOffline = typeof navigator !== "undefined" && navigator.onLine === false;
    const delay = delayMs ?? backoffDelay(this.attempt, this.backoff);
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
    this.status = status;
    for (const listener of [...this.statusListeners]) listener(status);
  }
}
