// A duplicated tab in real Chromium against the real server: the copy starts with a copy of the original's
// sessionStorage (clientId included), tells itself apart over BroadcastChannel and takes a new clientId, and both
// tabs' keystrokes all arrive.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CollabProcess, editorText, eventually, launchChromium, openEditor, typeAtEnd, waitConnected, waitSynced } from "./harness";

let server: CollabProcess;
let browser: Browser;

beforeAll(async () => {
  server = new CollabProcess();
  [browser] = await Promise.all([launchChromium(), server.start()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const clientIdOf = (page: Page) => page.evaluate(() => window.collab.clientId);

describe("a duplicated tab", () => {
  it("gets its own clientId, and both tabs' interleaved typing converges with every keystroke", async () => {
    const doc = `dup-${Math.random().toString(36).slice(2, 8)}`;
    const { context, page: original } = await openEditor(browser, server, doc, "Ada");
    await typeAtEnd(original, "start. ");
    await waitSynced(original);
    const originalId = await clientIdOf(original);

    // What "Duplicate tab" does: a same-origin auxiliary window gets a copy of the opener's sessionStorage.
    const opened = context.waitForEvent("page");
    await original.evaluate(() => { window.open(location.href); });
    const copy = await opened;
    await copy.waitForLoadState();
    expect(await copy.evaluate(() => sessionStorage.getItem("collab.clientId") !== null)).toBe(true);
    await waitConnected(copy);
    const copyId = await clientIdOf(copy);
    expect(copyId).not.toBe(originalId);
    expect(await clientIdOf(original)).toBe(originalId);
    expect(await copy.evaluate(() => sessionStorage.getItem("collab.clientId"))).toBe(copyId);
    await eventually(async () => (await editorText(copy)) === "start. ", 10_000, "the copy to show the text");

    // Interleaved: each types a word, in turns, without waiting for the other to sync. Each tab has its own
    // alphabet, so every keystroke of each can be found in the result, in the order it was typed.
    let mine = "", theirs = "";
    for (let i = 0; i < 6; i++) {
      const a = `${"abcdef"[i]}x.`, b = `${"ABCDEF"[i]}Y!`;
      mine += a;
      theirs += b;
      await typeAtEnd(original, a, 3);
      await typeAtEnd(copy, b, 3);
    }
    await Promise.all([waitSynced(original), waitSynced(copy)]);
    const final = await server.doc(doc);
    await eventually(async () => (await editorText(original)) === final.text && (await editorText(copy)) === final.text,
      10_000, "both tabs to show the server's text");
    expect(final.text.startsWith("start. ")).toBe(true);
    const typed = final.text.slice("start. ".length);
    expect(typed.replace(/[^a-z.]/g, "")).toBe(mine);
    expect(typed.replace(/[^A-Z!]/g, "")).toBe(theirs);
    expect(typed).toHaveLength(mine.length + theirs.length);
    await context.close();
  });
});
