// Links mode in real Chromium against a real server started with Collab:Access:Mode Links: the owner creates a
// document from the landing page and shares it, a viewer cannot change it (the server refuses a forged op), an
// editor can, and rotating the edit link cuts the editor off (4403) while the viewer stays.
import { randomBytes } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CollabProcess, editorText, eventually, launchChromium, typeAtEnd, waitConnected, waitSynced } from "./harness";

let server: CollabProcess;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  server = new CollabProcess(["--Collab:Access:Mode", "Links", "--Collab:Access:SigningKey", randomBytes(32).toString("base64")]);
  [browser] = await Promise.all([launchChromium(), server.start()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A person with their own browser context, on `path` (a share link, or the landing page). */
async function person(name: string, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
  contexts.push(context);
  await context.addInitScript((n) => {
    if (!localStorage.getItem("collab.me")) localStorage.setItem("collab.me", JSON.stringify({ name: n, color: "#3f51b5" }));
  }, name);
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

const tokenOf = (url: string) => decodeURIComponent(url.slice(url.indexOf("#k=") + 3));
const docOf = (url: string) => new URL(url).pathname.replace(/^\/d\//, "");
const notice = (page: Page) => page.evaluate(() => {
  const el = document.getElementById("notice")!;
  return { hidden: el.hidden, text: el.textContent ?? "", reason: el.dataset.reason ?? null };
});

describe("share links", () => {
  it("owner shares; the viewer cannot edit, the editor can; rotating the edit link cuts the editor but not the viewer", async () => {
    const owner = await person("Olga Owner", `${server.baseUrl}/`);
    await owner.click("#new-doc");
    await owner.waitForURL(/\/d\//);
    await waitConnected(owner);
    // The token is out of the address bar, kept for reloads of the tab only.
    expect(owner.url()).not.toContain("#k=");
    expect(await owner.evaluate(() => Object.keys(localStorage).some((k) => localStorage.getItem(k)?.includes("e1.")))).toBe(false);
    expect(await owner.isVisible("#share")).toBe(true);
    expect(await owner.isVisible("#access-badge")).toBe(false);
    await typeAtEnd(owner, "Owner's notes. ");
    await waitSynced(owner);

    await owner.click("#share");
    await owner.waitForSelector("#share-dialog[data-loaded=true]");
    const editUrl = await owner.inputValue("#share-edit");
    const viewUrl = await owner.inputValue("#share-view");
    expect(editUrl).toMatch(new RegExp(`^${server.baseUrl}/d/[a-z2-7]{16}#k=e1\\.`));
    expect(viewUrl).not.toBe(editUrl);
    const doc = docOf(editUrl);
    const ownerToken = await owner.evaluate((d) => sessionStorage.getItem(`collab.link.${d}`), doc);
    expect(ownerToken).toBeTruthy();

    // The viewer: read-only editor with a badge; typing changes nothing; a forged op is refused by the server.
    const viewer = await person("Vic Viewer", viewUrl);
    await waitConnected(viewer);
    expect(await viewer.isVisible("#access-badge")).toBe(true);
    expect(await viewer.isVisible("#share")).toBe(false);
    expect(await editorText(viewer)).toBe("Owner's notes. ");
    await typeAtEnd(viewer, "viewer was here");
    expect(await editorText(viewer)).toBe("Owner's notes. ");
    await viewer.evaluate(() => {
      const { connection, session, view } = window.collab;
      const length = view.state.doc.length;
      connection.send({ type: "op", doc: session.doc, rev: session.client!.rev, seq: 9999, op: length ? [length, "forged"] : ["forged"] });
    });
    await viewer.waitForFunction(() => window.collab.session.refused?.code === "forbidden", undefined, { timeout: 10_000 });
    expect((await notice(viewer)).text).toContain("view-only");
    // The viewer's cursor still reaches the owner.
    await owner.locator(".cm-remote-label", { hasText: "Vic Viewer" }).waitFor({ state: "attached", timeout: 10_000 });

    // The editor types; the owner and the viewer see it.
    const editor = await person("Eddie Editor", editUrl);
    await waitConnected(editor);
    expect(await editor.isVisible("#access-badge")).toBe(false);
    await typeAtEnd(editor, "Edited. ");
    await waitSynced(editor);
    await eventually(async () => (await editorText(owner)).includes("Edited. ") && (await editorText(viewer)).includes("Edited. "),
      10_000, "the owner and the viewer to see the edit");
    expect((await server.doc(doc, ownerToken!)).text).toBe("Owner's notes. Edited. ");

    // Rotate the edit link: the editor is cut off within 5 s with the revoked message; the viewer stays.
    owner.once("dialog", (dialog) => void dialog.accept());
    await owner.click("#rotate-edit");
    const rotatedAt = Date.now();
    await editor.waitForFunction(() => document.getElementById("notice")?.dataset.reason === "revoked", undefined, { timeout: 5_000 });
    expect(Date.now() - rotatedAt).toBeLessThan(5_000);
    expect((await notice(editor)).text).toBe("Your link to this document was revoked by its owner. Ask for a new link.");
    expect(await editor.evaluate(() => document.getElementById("status")!.dataset.status)).toBe("revoked");
    await owner.waitForFunction((old) => (document.getElementById("share-edit") as HTMLInputElement).value !== old, editUrl);
    const newEditUrl = await owner.inputValue("#share-edit");
    expect(await owner.inputValue("#share-view")).toBe(viewUrl);

    await owner.keyboard.press("Escape");
    await typeAtEnd(owner, "After. ");
    await waitSynced(owner);
    await eventually(async () => (await editorText(viewer)).endsWith("After. "), 10_000, "the viewer to see the owner's next edit");
    expect(await viewer.evaluate(() => document.getElementById("status")!.dataset.status)).toBe("connected");
    // The revoked editor neither reconnected nor can type.
    expect(await editor.evaluate(() => window.collab.connection.status)).toBe("revoked");

    // The old edit link no longer opens the document; the new one does.
    const late = await person("Lee Late", editUrl);
    await late.waitForFunction(() => document.getElementById("notice")?.dataset.reason === "unauthorized", undefined, { timeout: 10_000 });
    expect((await notice(late)).text).toContain("revoked by its owner");
    const fresh = await person("Fay Fresh", newEditUrl);
    await waitConnected(fresh);
    expect(await editorText(fresh)).toBe("Owner's notes. Edited. After. ");
    for (const context of contexts.splice(0)) await context.close();
  });

  it("creates a named document from the landing page, and says so when the name is taken", async () => {
    const name = `named-${Math.random().toString(36).slice(2, 8)}`;
    const first = await person("Ada", `${server.baseUrl}/`);
    await first.fill("#open-name", name);
    await first.press("#open-name", "Enter");
    await first.waitForURL(new RegExp(`/d/${name}$`));
    await waitConnected(first);
    expect(await first.isVisible("#share")).toBe(true);

    const second = await person("Bob", `${server.baseUrl}/`);
    await second.fill("#open-name", name);
    await second.press("#open-name", "Enter");
    await second.waitForSelector("#open-error:not([hidden])");
    expect(await second.textContent("#open-error")).toContain("exists already");
    expect(second.url()).toBe(`${server.baseUrl}/`);

    // A link without a token opens nothing.
    const stranger = await person("Cy", `${server.baseUrl}/d/${name}`);
    await stranger.waitForFunction(() => document.getElementById("notice")?.dataset.reason === "unauthorized", undefined, { timeout: 10_000 });
    expect((await notice(stranger)).text).toBe("This link is not valid for this document.");
    for (const context of contexts.splice(0)) await context.close();
  });
});
