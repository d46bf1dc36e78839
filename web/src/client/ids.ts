/** Identifiers: readable document names and the per-tab clientId. */

const ADJECTIVES = [
  "brave", "calm", "clever", "bright", "eager", "gentle", "happy", "jolly", "kind", "lively", "lucky", "mellow",
  "nimble", "proud", "quick", "quiet", "rapid", "shiny", "silly", "sunny", "swift", "tidy", "witty", "zesty",
  "amber", "azure", "coral", "golden", "misty", "rosy", "silver", "velvet",
];
const ANIMALS = [
  "otter", "badger", "falcon", "panda", "lynx", "heron", "koala", "marten", "owl", "puffin", "quokka", "raven",
  "seal", "tiger", "walrus", "yak", "zebra", "beaver", "dolphin", "ferret", "gecko", "ibis", "jaguar", "lemur",
  "moose", "newt", "orca", "pelican", "robin", "sloth", "toucan", "wombat",
];

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)] as T;

/** A readable random document id such as `brave-otter-42`. */
export function randomDocName(random: () => number = Math.random): string {
  return `${pick(ADJECTIVES, random)}-${pick(ANIMALS, random)}-${Math.floor(random() * 90) + 10}`;
}

/** A random id of [a-z0-9], `length` characters. */
export function randomId(length = 16): string {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
}

/** A fresh clientId for a tab: unguessable (it is the tab's secret towards the server). */
export const newTabClientId = (): string => `tab-${randomId(12)}`;

/**
 * The clientId of this tab: kept in sessionStorage, which survives reloads but is per tab. `adopt` offers the
 * id of a dead tab with unsent work (see DocStore.findOrphan); it is used only when this tab has none yet.
 */
export function tabClientId(session: Pick<Storage, "getItem" | "setItem"> | null, adopt?: () => string | null): { clientId: string; fresh: boolean } {
  const existing = session?.getItem("collab.clientId");
  if (existing) return { clientId: existing, fresh: false };
  const adopted = adopt?.() ?? null;
  const clientId = adopted ?? newTabClientId();
  session?.setItem("collab.clientId", clientId);
  return { clientId, fresh: adopted === null };
}
