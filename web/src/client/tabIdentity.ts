/**
 * Tells a duplicated tab from its original. "Duplicate tab" (and `window.open` of a same-origin page) copies
 * sessionStorage, so the copy starts with the original's clientId; two live tabs sharing one clientId would have
 * each other's ops dropped as duplicates by the server's (clientId, seq) dedupe. Every live tab of the origin listens
 * on one BroadcastChannel and answers for its clientId; a tab that starts asks first and, if anyone answers within
 * `waitMs`, takes a fresh clientId. Framework-free; the channel is injected so tests can pair fakes.
 */

/** The part of BroadcastChannel used here. */
export interface TabChannel {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
}

/** The channel every Collab tab of an origin listens on. */
export const TAB_CHANNEL = "collab-tabs";

/** `until`: when the asker stops waiting (Date.now() of the same machine), so a late receiver knows it was too late. */
interface Question { type: "collab-who-has"; clientId: string; nonce: string; until: number }
interface Answer { type: "collab-i-have"; clientId: string; nonce: string }

export interface TabIdentityOptions {
  /** How long an answer is waited for (default 200 ms). A live tab answers within a task; a frozen one never does. */
  waitMs?: number;
  /** The question's nonce (default 16 random characters). */
  nonce?: () => string;
  /**
   * Another tab asked for this tab's clientId and our answer comes too late (this tab was frozen, or busy): that tab
   * keeps the clientId, and may have restored our persisted outbox.
   */
  onAskedLate?: (clientId: string) => void;
}

const randomNonce = (): string => {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
};

export class TabIdentity {
  /** The clientId this tab answers for. */
  clientId: string;
  /**
   * Until the first question is settled, this tab does not yet own its clientId: when two tabs ask for the same id
   * at once (a session restore of two copies), the one with the smaller nonce keeps it and answers the other.
   */
  private settled = false;
  private readonly asking = new Map<string, { clientId: string; claimed: () => void }>();
  private readonly waitMs: number;
  private readonly nonce: () => string;
  /** See TabIdentityOptions.onAskedLate; may be set after construction. */
  onAskedLate: ((clientId: string) => void) | null;

  constructor(private readonly channel: TabChannel | null, clientId: string, options: TabIdentityOptions = {}) {
    this.clientId = clientId;
    this.waitMs = options.waitMs ?? 200;
    this.nonce = options.nonce ?? randomNonce;
    this.onAskedLate = options.onAskedLate ?? null;
    if (channel) channel.onmessage = (event) => this.receive(event.data);
  }

  /**
   * Asks the other tabs whether a live one holds `clientId` (default: this tab's). Resolves true as soon as one
   * answers, false after `waitMs` without an answer (or at once without a channel). This tab keeps answering for
   * its own clientId meanwhile and afterwards.
   */
  claimedElsewhere(clientId: string = this.clientId): Promise<boolean> {
    const channel = this.channel;
    if (!channel) {
      this.settled = true;
      return Promise.resolve(false);
    }
    const nonce = this.nonce();
    return new Promise<boolean>((resolve) => {
      const finish = (claimed: boolean) => {
        if (!this.asking.delete(nonce)) return;
        clearTimeout(timer);
        this.settled = true;
        resolve(claimed);
      };
      const timer = setTimeout(() => finish(false), this.waitMs);
      this.asking.set(nonce, { clientId, claimed: () => finish(true) });
      try {
        channel.postMessage({ type: "collab-who-has", clientId, nonce, until: Date.now() + this.waitMs } satisfies Question);
      } catch {
        finish(false);
      }
    });
  }

  /** Stops answering (the page is going away). */
  close(): void {
    const channel = this.channel;
    if (!channel) return;
    channel.onmessage = null;
    try {
      channel.close();
    } catch {
      // already closed
    }
  }

  private receive(data: unknown): void {
    if (typeof data !== "object" || data === null) return;
    const message = data as Partial<Question | Answer>;
    if (typeof message.clientId !== "string" || typeof message.nonce !== "string") return;
    if (message.type === "collab-i-have") {
      const question = this.asking.get(message.nonce);
      if (question && question.clientId === message.clientId) question.claimed();
      return;
    }
    if (message.type !== "collab-who-has" || message.clientId !== this.clientId) return;
    if (this.asking.has(message.nonce)) return; // our own question (a channel never hears itself, but be sure)
    if (typeof message.until === "number" && Date.now() >= message.until) this.onAskedLate?.(this.clientId);
    if (!this.settled) {
      // Both of us are starting with this id: the smaller nonce keeps it. The other side decides the same way.
      const mine = [...this.asking.entries()].find(([, q]) => q.clientId === this.clientId);
      if (mine && mine[0] > message.nonce) {
        mine[1].claimed();
        return;
      }
    }
    try {
      this.channel?.postMessage({ type: "collab-i-have", clientId: this.clientId, nonce: message.nonce } satisfies Answer);
    } catch {
      // the channel is closed: this page is going away
    }
  }
}

/** The browser's channel, or null where BroadcastChannel is missing (then no tab can be told apart). */
export function browserTabChannel(): TabChannel | null {
  try {
    return typeof BroadcastChannel === "undefined" ? null : (new BroadcastChannel(TAB_CHANNEL) as unknown as TabChannel);
  } catch {
    return null;
  }
}
