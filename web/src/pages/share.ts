/** The owner's Share dialog: the edit and view links of the document, copy buttons, and rotating a link. */
import { shareUrl } from "./link";

export interface LinkSet {
  doc: string;
  owner: string;
  edit: string;
  view: string;
}

export type RotatableKind = "edit" | "view";

/** The links of `doc` (`GET /api/docs/{doc}/links`), or `POST …/links/{kind}/rotate` for a new `kind` link. */
export async function requestLinks(doc: string, ownerToken: string, rotate?: RotatableKind, fetchFn: typeof fetch = fetch): Promise<LinkSet> {
  const path = `/api/docs/${encodeURIComponent(doc)}/links${rotate ? `/${rotate}/rotate` : ""}`;
  const res = await fetchFn(path, { method: rotate ? "POST" : "GET", headers: { Authorization: `Bearer ${ownerToken}` } });
  if (!res.ok) {
    let detail = `the server answered ${res.status}`;
    try {
      const problem = (await res.json()) as { detail?: string };
      if (problem.detail) detail = problem.detail;
    } catch {
      // not a problem document
    }
    throw new Error(detail);
  }
  return (await res.json()) as LinkSet;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Wires the dialog of editor.html; returns the function that opens it. */
export function setupShareDialog(doc: string, ownerToken: string): () => void {
  const dialog = $<HTMLDialogElement>("share-dialog");
  const status = $("share-status");
  const inputs: Record<RotatableKind, HTMLInputElement> = { edit: $("share-edit"), view: $("share-view") };
  let busy = false;

  const show = (links: LinkSet) => {
    for (const kind of ["edit", "view"] as const) inputs[kind].value = shareUrl(location.origin, doc, links[kind]);
  };
  const load = async (rotate?: RotatableKind) => {
    if (busy) return;
    busy = true;
    dialog.dataset.busy = "true";
    try {
      show(await requestLinks(doc, ownerToken, rotate));
      status.textContent = rotate
        ? `New ${rotate} link. The old one no longer works; people who used it were disconnected and need the new link.`
        : "";
      dialog.dataset.loaded = "true";
    } catch (error) {
      status.textContent = `Could not ${rotate ? `rotate the ${rotate} link` : "load the links"}: ${(error as Error).message}`;
    } finally {
      busy = false;
      delete dialog.dataset.busy;
    }
  };

  dialog.querySelectorAll<HTMLButtonElement>("button[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const input = $<HTMLInputElement>(button.dataset.copy!);
      if (!input.value) return;
      try {
        await navigator.clipboard.writeText(input.value);
        button.textContent = "Copied!";
      } catch {
        input.select();
        button.textContent = "Press Ctrl+C";
      }
      setTimeout(() => (button.textContent = "Copy"), 1500);
    });
  });
  dialog.querySelectorAll<HTMLButtonElement>("button[data-rotate]").forEach((button) => {
    button.addEventListener("click", () => {
      const kind = button.dataset.rotate as RotatableKind;
      const ok = window.confirm(`Rotate the ${kind} link?\n\nThe current ${kind} link stops working at once, and everyone `
        + `who opened the document through it is disconnected. You will get a new ${kind} link to share.`);
      if (ok) void load(kind);
    });
  });

  return () => {
    if (!dialog.open) dialog.showModal();
    void load();
  };
}
