/**
 * Which transport the next connection attempt uses. WebSocket first; the connection falls back to SSE+POST by
 * itself when a WebSocket cannot be established (error or close before the first frame, which covers a 400/403
 * handshake) or stays silent after `hello` (a proxy that accepts the upgrade but buffers). A transport that got
 * `welcome` becomes the tab's choice, kept in sessionStorage so a reload does not pay for the failed try again;
 * while on SSE, every `retryWebSocketEvery`-th connection tries the WebSocket first, so a fixed network returns
 * to it. A server that is simply down fails both, and proves nothing: the choice stays as it was.
 */
import type { TransportKind } from "./transport";

export const TRANSPORT_KEY = "collab.transport";

interface Saved {
  mode: TransportKind;
  /** Connection attempts made while on SSE. */
  sseConnects: number;
}

export interface TransportPolicyOptions {
  /** sessionStorage in the browser; null keeps the choice in memory. */
  store?: Pick<Storage, "getItem" | "setItem"> | null;
  /** No fallback URL: WebSocket only. */
  fallback: boolean;
  retryWebSocketEvery?: number;
}

export class TransportPolicy {
  private state: Saved = { mode: "websocket", sseConnects: 0 };
  private readonly retryEvery: number;

  constructor(private readonly options: TransportPolicyOptions) {
    this.retryEvery = Math.max(1, options.retryWebSocketEvery ?? 5);
    try {
      const raw = options.store?.getItem(TRANSPORT_KEY);
      if (raw) {
        const saved = JSON.parse(raw) as Partial<Saved>;
        if (saved.mode === "sse" || saved.mode === "websocket") {
          this.state = { mode: saved.mode, sseConnects: Number.isInteger(saved.sseConnects) ? saved.sseConnects! : 0 };
        }
      }
    } catch {
      // unreadable: start over
    }
  }

  /** The tab's current choice. */
  get mode(): TransportKind {
    return this.options.fallback ? this.state.mode : "websocket";
  }

  /** The transport for the next connection attempt. */
  next(): TransportKind {
    if (this.mode === "websocket") return "websocket";
    this.state.sseConnects++;
    this.save();
    return this.state.sseConnects % this.retryEvery === 0 ? "websocket" : "sse";
  }

  /**
   * A WebSocket attempt failed before any frame arrived: the transport to try at once, or null to wait (back off)
   * and start over with next().
   */
  webSocketFailed(): TransportKind | null {
    return this.options.fallback ? "sse" : null;
  }

  /** `welcome` arrived over `kind`: it is the tab's choice from now on. */
  welcomed(kind: TransportKind): void {
    if (!this.options.fallback) return;
    if (kind === this.state.mode) return;
    this.state = { mode: kind, sseConnects: 0 };
    this.save();
  }

  private save(): void {
    try {
      this.options.store?.setItem(TRANSPORT_KEY, JSON.stringify(this.state));
    } catch {
      // quota or privacy mode: the choice lives as long as the page
    }
  }
}
