/** The landing page: create a document, open one by name, or go back to a recent one. */
import "../styles.css";
import { randomDocName } from "../client/ids";
import { isValidDocId } from "../client/protocol";
import { forgetDoc, loadRecent, timeAgo } from "./prefs";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function open(doc: string): void {
  location.assign(`/d/${encodeURIComponent(doc)}`);
}

$("new-doc").addEventListener("click", () => open(randomDocName()));

$("open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const raw = $<HTMLInputElement>("open-name").value.trim();
  // Accept a pasted link as well as a bare name.
  const doc = raw.replace(/^.*\/d\//, "").replace(/[/?#].*$/, "");
  const error = $("open-error");
  if (!isValidDocId(doc)) {
    error.textContent = "A document name is 1–128 letters, digits, dots, dashes or underscores.";
    error.hidden = false;
    return;
  }
  open(doc);
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
