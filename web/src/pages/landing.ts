/** The landing page: create a document (POST /api/docs), open a share link or a name, or go back to a recent one. */
import "../styles.css";
import { isValidDocId } from "../client/protocol";
import { type CreateProblem, createErrorMessage } from "./createError";
import { shareUrl, tokenFromHash } from "./link";
import { forgetDoc, loadRecent, timeAgo } from "./prefs";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function showError(id: string, message: string | null): void {
  const el = $(id);
  el.textContent = message ?? "";
  el.hidden = message === null;
}

/**
 * Creates a document (named, or with a name the server generates) and opens it: in Links mode through its owner
 * link (`/d/{doc}#k=<owner token>`), in Open mode at `/d/{doc}` (where an existing name simply opens).
 * Returns the error to show, if any.
 */
async function create(name?: string): Promise<string | null> {
  let res: Response;
  try {
    res = await fetch("/api/docs", {
      method: "POST",
      ...(name === undefined ? {} : { headers: { "Content-Type": "application/json" }, body: JSON.stringify({ doc: name }) }),
    });
  } catch {
    return "Could not reach the server. Check your connection and try again.";
  }
  if (res.status === 201) {
    const created = (await res.json()) as { doc: string; owner?: string };
    location.assign(created.owner ? shareUrl("", created.doc, created.owner) : `/d/${encodeURIComponent(created.doc)}`);
    return null;
  }
  let problem: CreateProblem | null = null;
  try {
    problem = (await res.json()) as CreateProblem;
  } catch {
    // not a problem document
  }
  return createErrorMessage(res.status, name, problem);
}

let creating = false;
async function guarded(errorId: string, action: () => Promise<string | null>): Promise<void> {
  if (creating) return;
  creating = true;
  showError(errorId, null);
  try {
    showError(errorId, await action());
  } finally {
    creating = false;
  }
}

$("new-doc").addEventListener("click", () => void guarded("new-error", () => create()));

$("open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const raw = $<HTMLInputElement>("open-name").value.trim();
  // Accept a pasted share link as well as a bare name.
  const doc = raw.replace(/^.*\/d\//, "").replace(/[/?#].*$/, "");
  if (!isValidDocId(doc)) {
    showError("open-error", "A document name is 1–128 letters, digits, dots, dashes or underscores.");
    return;
  }
  const hash = raw.includes("#") ? raw.slice(raw.indexOf("#")) : "";
  const token = tokenFromHash(hash);
  if (token) {
    location.assign(shareUrl("", doc, token));
    return;
  }
  void guarded("open-error", () => create(doc));
});

function renderRecent(): void {
  const recent = loadRecent();
  $("recent-section").hidden = recent.length === 0;
  const list = $("recent-list");
  list.replaceChildren(
    ...recent.map((r) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = `/d/${encodeURIComponent(r.doc)}`;
      a.textContent = r.doc;
      const when = document.createElement("span");
      when.className = "when";
      when.textContent = timeAgo(r.openedAt);
      const remove = document.createElement("button");
      remove.className = "icon";
      remove.type = "button";
      remove.title = `Remove ${r.doc} from this list`;
      remove.textContent = "×";
      remove.addEventListener("click", () => {
        forgetDoc(r.doc);
        renderRecent();
      });
      li.append(a, when, remove);
      return li;
    }),
  );
}

renderRecent();
