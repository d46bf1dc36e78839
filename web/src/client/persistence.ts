/**
 * Keeps a document's client state in localStorage so that a reload (or a crash of the tab) loses nothing:
 * the last synced text and revision, the next seq, and the unacknowledged ops with their seqs. One entry per
 * (document, clientId), so two tabs on the same document never overwrite each other.
 */
import type { OtSnapshot } from "./otClient";

/** Where state is kept; localStorage in the browser, a Map in tests. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  readonly length: number;
  key(index: number): string | null;
}

export interface PersistedDoc extends OtSnapshot {
  clientId: string;
  savedAt: number;
}

const PREFIX = "collab.doc.";
const docKey = (doc: string, clientId: string) => `${PREFIX}${doc}|${clientId}`;
const liveKey = (clientId: string) => `collab.live.${clientId}`;

export class DocStore {
  constructor(private readonly store: KeyValueStore | null) {}

  load(doc: string, clientId: string): PersistedDoc | null {
    try {
      const raw = this.store?.getItem(docKey(doc, clientId));
      return raw ? (JSON.parse(raw) as PersistedDoc) : null;
    } catch {
      return null;
    }
  }

  save(doc: string, clientId: string, snapshot: OtSnapshot): void {
    if (!this.store) return;
    const value: PersistedDoc = { ...snapshot, clientId, savedAt: Date.now() };
    try {
      this.store.setItem(docKey(doc, clientId), JSON.stringify(value));
    } catch {
      // Quota: keep the small part (seq and unsent ops); the text comes back from the server on join.
      try {
        this.store.setItem(docKey(doc, clientId), JSON.stringify({ ...value, serverText: "", rev: -1 }));
      } catch {
        // Nothing more we can do; the edits still reach the server while the tab lives.
      }
    }
  }

  /** Marks a clientId as in use by a living tab (refresh every few seconds). */
  heartbeat(clientId: string): void {
    try {
      this.store?.setItem(liveKey(clientId), String(Date.now()));
    } catch {
      // ignore
    }
  }

  /**
   * A clientId whose tab is gone (no heartbeat for `staleMs`) but left unacknowledged ops for this document:
   * a new tab adopts it and sends them, with their original seqs.
   */
  findOrphan(doc: string, staleMs = 15000): string | null {
    if (!this.store) return null;
    for (let i = 0; i < this.store.length; i++) {
      const key = this.store.key(i);
      if (!key?.startsWith(`${PREFIX}${doc}|`)) continue;
      const clientId = key.slice(PREFIX.length + doc.length + 1);
      const live = Number(this.store.getItem(liveKey(clientId)) ?? 0);
      if (Date.now() - live < staleMs) continue;
      const state = this.load(doc, clientId);
      if (state?.outstanding) return clientId;
    }
    return null;
  }
}
