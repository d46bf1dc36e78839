// BroadcastChannel stand-ins: every channel of one FakeTabs hears the messages of the others (never its own), a task
// later, as the browser delivers them. A frozen channel holds what it is sent until it thaws (a frozen tab).
import type { TabChannel } from "../../src/client/tabIdentity";

export class FakeChannel implements TabChannel {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  closed = false;
  frozen = false;
  private held: unknown[] = [];
  constructor(private readonly tabs: FakeTabs) {}

  postMessage(message: unknown): void {
    if (this.closed) throw new DOMException("closed", "InvalidStateError");
    for (const other of this.tabs.channels) if (other !== this) other.deliver(structuredClone(message));
  }

  close(): void {
    this.closed = true;
  }

  /** A frozen tab's tasks wait; thawing runs them (late). */
  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
    const held = this.held;
    this.held = [];
    for (const message of held) this.deliver(message);
  }

  private deliver(message: unknown): void {
    if (this.closed) return;
    if (this.frozen) {
      this.held.push(message);
      return;
    }
    setTimeout(() => {
      if (!this.closed) this.onmessage?.({ data: message });
    }, 0);
  }
}

export class FakeTabs {
  readonly channels = new Set<FakeChannel>();
  open(): FakeChannel {
    const channel = new FakeChannel(this);
    this.channels.add(channel);
    return channel;
  }
}
