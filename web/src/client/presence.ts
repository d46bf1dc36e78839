/**
 * The other sessions' cursors. A presence carries positions in the server text at its `rev`; every committed
 * revision moves them (TransformPosition, an author's own inserts pushing its cursor along) until the next
 * presence replaces them. A `left` removes the cursor.
 */
import type { PresenceFrame, UserInfo } from "./protocol";
import type { TextOperation } from "./textOperation";

export interface RemoteCursor {
  sessionId: string;
  /** The author's tag (or the sessionId when the frame had none): its own ops push its cursor along. */
  author: string;
  name: string;
  color: string;
  anchor: number;
  head: number;
}

interface Tracked {
  sessionId: string;
  author: string;
  user: UserInfo;
  rev: number;
  anchor: number;
  head: number;
}

/** A palette for people who did not pick a colour. */
export const COLORS = ["#e91e63", "#3f51b5", "#009688", "#ff9800", "#9c27b0", "#4caf50", "#f44336", "#00bcd4", "#795548", "#607d8b"];

/** A colour the editor may put into a style: exactly `#rrggbb`. Anything else (a style injection) is not one. */
export function isSafeColor(color: unknown): color is string {
  return typeof color === "string" && /^#[0-9a-fA-F]{6}$/.test(color);
}

export function colorFor(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return COLORS[Math.abs(h) % COLORS.length] as string;
}

export class PresenceTracker {
  private readonly cursors = new Map<string, Tracked>();
  /** Recent revisions, to bring a presence based on an older revision up to date. */
  private readonly history: { rev: number; op: TextOperation; author: string }[] = [];
  private static readonly HISTORY = 500;

  clear(): void {
    this.cursors.clear();
  }

  /** Everyone here, for the presence list. */
  people(): RemoteCursor[] {
    return [...this.cursors.values()].map((c) => this.toCursor(c, c.anchor, c.head));
  }

  receive(frame: PresenceFrame, currentRev: number): void {
    if (frame.left) {
      this.cursors.delete(frame.sessionId);
      return;
    }
    const c: Tracked = {
      sessionId: frame.sessionId,
      author: frame.author ?? frame.sessionId,
      user: frame.user ?? {},
      rev: frame.rev ?? currentRev,
      anchor: frame.anchor ?? 0,
      head: frame.head ?? 0,
    };
    for (const h of this.history) {
      if (h.rev !== c.rev + 1) continue;
      this.move(c, h.op, h.author);
      c.rev = h.rev;
    }
    this.cursors.set(c.sessionId, c);
  }

  /** Revision `rev` was committed with `op` (server coordinates at rev − 1). */
  committed(rev: number, op: TextOperation, author: string): void {
    this.history.push({ rev, op, author });
    if (this.history.length > PresenceTracker.HISTORY) this.history.shift();
    for (const c of this.cursors.values()) {
      if (c.rev !== rev - 1) continue;
      this.move(c, op, author);
      c.rev = rev;
    }
  }

  private move(c: Tracked, op: TextOperation, author: string): void {
    const own = author === c.author;
    const clamp = (p: number) => Math.min(Math.max(0, p), op.baseLength);
    c.anchor = op.transformPosition(clamp(c.anchor), own);
    c.head = op.transformPosition(clamp(c.head), own);
  }

  /** Cursors in the local text: the server text at `rev` plus the pending ops. */
  inLocalText(rev: number, pending: TextOperation | null, length: number): RemoteCursor[] {
    return [...this.cursors.values()].map((c) => {
      const map = (p: number) => {
        if (c.rev === rev && pending) p = pending.transformPosition(Math.min(Math.max(0, p), pending.baseLength));
        return Math.min(Math.max(0, p), length);
      };
      return this.toCursor(c, map(c.anchor), map(c.head));
    });
  }

  private toCursor(c: Tracked, anchor: number, head: number): RemoteCursor {
    return {
      sessionId: c.sessionId,
      author: c.author,
      name: c.user.name?.trim() || "Anonymous",
      // The server accepts only #rrggbb; checked again here so no other server can inject CSS into the editor.
      color: isSafeColor(c.user.color) ? c.user.color : colorFor(c.author),
      anchor,
      head,
    };
  }
}
