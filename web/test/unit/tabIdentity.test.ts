// Clone detection between tabs (tabIdentity.ts) over a fake BroadcastChannel pair, in fake time.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TabIdentity } from "../../src/client/tabIdentity";
import { FakeTabs } from "./fakeTabs";
import { useFakeTime } from "./random";

/** Resolves a promise that settles within fake time. */
async function settle<T>(promise: Promise<T>, ms = 1000): Promise<T> {
  let done = false;
  let value!: T;
  void promise.then((v) => { done = true; value = v; });
  for (let t = 0; t < ms && !done; t++) await vi.advanceTimersByTimeAsync(1);
  if (!done) throw new Error(`not settled after ${ms} fake ms`);
  return value;
}

describe("telling a duplicated tab from its original", () => {
  beforeEach(() => useFakeTime());
  afterEach(() => vi.useRealTimers());

  it("a tab no other tab answers for keeps its clientId, after the wait", async () => {
    const tabs = new FakeTabs();
    const alone = new TabIdentity(tabs.open(), "tab-a", { waitMs: 200 });
    const start = Date.now();
    expect(await settle(alone.claimedElsewhere())).toBe(false);
    expect(Date.now() - start).toBe(200);
    expect(alone.clientId).toBe("tab-a");
  });

  it("a copy of a live tab is told so at once; a tab with another clientId is not", async () => {
    const tabs = new FakeTabs();
    const original = new TabIdentity(tabs.open(), "tab-a", { waitMs: 200 });
    expect(await settle(original.claimedElsewhere())).toBe(false);
    const copy = new TabIdentity(tabs.open(), "tab-a", { waitMs: 200 });
    const start = Date.now();
    expect(await settle(copy.claimedElsewhere())).toBe(true);
    expect(Date.now() - start).toBeLessThan(200);
    const other = new TabIdentity(tabs.open(), "tab-b", { waitMs: 200 });
    expect(await settle(other.claimedElsewhere())).toBe(false);
  });

  it("the original keeps answering for its whole life, and for its new clientId once it takes one", async () => {
    const tabs = new FakeTabs();
    const original = new TabIdentity(tabs.open(), "tab-a", { waitMs: 200 });
    expect(await settle(original.claimedElsewhere())).toBe(false);
    await vi.advanceTimersByTimeAsync(3_600_000);
    for (let i = 0; i < 3; i++) {
      const copy = new TabIdentity(tabs.open(), "tab-a", { waitMs: 200 });
      expect(await settle(copy.claimedElsewhere())).toBe(true);
      copy.clientId = `tab-copy${i}`; // what the editor does: a fresh id, and answering for it from then on
    }
    const copyOfCopy = new TabIdentity(tabs.open(), "tab-copy1", { waitMs: 200 });
    expect(await settle(copyOfCopy.claimedElsewhere())).toBe(true);
    original.clientId = "tab-z";
    expect(await settle(new TabIdentity(tabs.open(), "tab-a", { waitMs: 200 }).claimedElsewhere())).toBe(false);
    expect(await settle(new TabIdentity(tabs.open(), "tab-z", { waitMs: 200 }).claimedElsewhere())).toBe(true);
  });

  it("a closed tab no longer answers", async () => {
    const tabs = new FakeTabs();
    const original = new TabIdentity(tabs.open(), "tab-a", { waitMs: 200 });
    expect(await settle(original.claimedElsewhere())).toBe(false);
    original.close();
    expect(await settle(new TabIdentity(tabs.open(), "tab-a", { waitMs: 200 }).claimedElsewhere())).toBe(false);
  });

  it("two tabs starting with one clientId at once: exactly one keeps it", async () => {
    for (const [n1, n2] of [["1", "2"], ["2", "1"]] as const) {
      const tabs = new FakeTabs();
      const first = new TabIdentity(tabs.open(), "tab-a", { waitMs: 200, nonce: () => n1 });
      const second = new TabIdentity(tabs.open(), "tab-a", { waitMs: 200, nonce: () => n2 });
      const [a, b] = await settle(Promise.all([first.claimedElsewhere(), second.claimedElsewhere()]));
      expect([a, b].filter((claimed) => !claimed)).toHaveLength(1);
      expect(a).toBe(n1 > n2); // the smaller nonce keeps the id
    }
  });

  it("without a channel (no BroadcastChannel) nothing can be told apart: the id is kept", async () => {
    expect(await new TabIdentity(null, "tab-a").claimedElsewhere()).toBe(false);
  });

  it("a frozen original answers too late; it learns that a copy asked while it was away", async () => {
    const tabs = new FakeTabs();
    const late: string[] = [];
    const channel = tabs.open();
    const original = new TabIdentity(channel, "tab-a", { waitMs: 200, onAskedLate: (id) => late.push(id) });
    expect(await settle(original.claimedElsewhere())).toBe(false);
    channel.freeze();
    const copy = new TabIdentity(tabs.open(), "tab-a", { waitMs: 200 });
    expect(await settle(copy.claimedElsewhere())).toBe(false); // nobody answered in time: the copy keeps the id
    channel.thaw();
    await vi.advanceTimersByTimeAsync(1);
    expect(late).toEqual(["tab-a"]);
    // A question answered in time is not late.
    const another = new TabIdentity(tabs.open(), "tab-a", { waitMs: 200 });
    expect(await settle(another.claimedElsewhere())).toBe(true);
    expect(late).toEqual(["tab-a"]);
  });
});
