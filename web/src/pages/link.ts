/**
 * A share link is /d/{doc}#k=<token>: the token travels in the URL fragment, which browsers never send to servers.
 * The editor takes it out of the address bar and keeps it in memory and, for reloads of this tab, in sessionStorage
 * (never localStorage: it would outlive the tab and be readable by every later page of the origin).
 */

const KEY_PREFIX = "collab.link.";

/** The `k` parameter of a URL fragment (`#k=…`), or null. Tokens are printable ASCII without spaces. */
export function tokenFromHash(hash: string): string | null {
  const match = /(?:^#?|&)k=([^&]*)/.exec(hash);
  if (!match?.[1]) return null;
  let token: string;
  try {
    token = decodeURIComponent(match[1]);
  } catch {
    return null;
  }
  return /^[!-~]{1,512}$/.test(token) ? token : null;
}

/** The full share URL of `doc` with `token`. */
export function shareUrl(origin: string, doc: string, token: string): string {
  return `${origin}/d/${encodeURIComponent(doc)}#k=${encodeURIComponent(token)}`;
}

/**
 * The token this tab uses for `doc`: a new one from the fragment (remembered in `session`, the fragment removed
 * through `clearHash`), else the one remembered from an earlier load of this tab, else null (Open mode).
 */
export function linkToken(doc: string, hash: string, session: Pick<Storage, "getItem" | "setItem"> | null,
  clearHash: () => void): string | null {
  const fresh = tokenFromHash(hash);
  if (fresh) {
    try {
      session?.setItem(KEY_PREFIX + doc, fresh);
    } catch {
      // storage disabled: the token lasts for this page only
    }
    clearHash();
    return fresh;
  }
  try {
    return session?.getItem(KEY_PREFIX + doc) ?? null;
  } catch {
    return null;
  }
}
