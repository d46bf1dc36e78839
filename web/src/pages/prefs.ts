/** What the browser remembers for the person: name, colour, recently opened documents (localStorage). */
import { COLORS } from "../client/presence";

export interface Me {
  name: string;
  color: string;
}

const ME_KEY = "collab.me";
const RECENT_KEY = "collab.recent";
const FIRST = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger", "Radia", "Tim"];

function read<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : fallback;
  } catch {
    return fallback;
  }
}

function write(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or disabled: the preference lasts for this page only
  }
}

export function loadMe(): Me {
  const me = read<Partial<Me>>(ME_KEY, {});
  if (me.name && me.color) return { name: me.name, color: me.color };
  const fresh = {
    name: me.name ?? `${FIRST[Math.floor(Math.random() * FIRST.length)]} ${Math.floor(Math.random() * 90) + 10}`,
    color: me.color ?? (COLORS[Math.floor(Math.random() * COLORS.length)] as string),
  };
  write(ME_KEY, fresh);
  return fresh;
}

export function saveMe(me: Me): void {
  write(ME_KEY, me);
}

export interface RecentDoc {
  doc: string;
  openedAt: number;
}

export function loadRecent(): RecentDoc[] {
  const list = read<RecentDoc[]>(RECENT_KEY, []);
  return Array.isArray(list) ? list.filter((r) => typeof r?.doc === "string") : [];
}

export function rememberDoc(doc: string): void {
  const list = [{ doc, openedAt: Date.now() }, ...loadRecent().filter((r) => r.doc !== doc)].slice(0, 20);
  write(RECENT_KEY, list);
}

export function forgetDoc(doc: string): void {
  write(RECENT_KEY, loadRecent().filter((r) => r.doc !== doc));
}

/** "just now", "5 min ago", "yesterday", … */
export function timeAgo(t: number, now = Date.now()): string {
  const s = Math.round((now - t) / 1000);
  if (s < 45) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  return d === 1 ? "yesterday" : `${d} days ago`;
}
