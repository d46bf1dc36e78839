// People editing together in real Chromium against the real server process.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CollabProcess, editorText, eventually, launchChromium, openEditor, repoRoot, typeAtEnd, waitConnected, waitSynced,
} from "./harness";

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

const docName = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

describe("editing together", () => {
  it("two pages typing at the same time converge, and a third page joining later sees the same text", async () => {
    const doc = docName("converge");
    const ada = await openEditor(browser, server, doc, "Ada", "#e91e63");
    const bob = await openEditor(browser, server, doc, "Bob", "#3f51b5");
    await Promise.all([typeAtEnd(ada.page, "Hello from Ada. ", 5), typeAtEnd(bob.page, "Bob types too! ", 5)]);
    await Promise.all([waitSynced(ada.page), waitSynced(bob.page)]);
    const server1 = await server.doc(doc);
    await eventually(async () => (await editorText(ada.page)) === server1.text && (await editorText(bob.page)) === server1.text,
      10_000, "both pages to show the server's text");
    expect(server1.text).toHaveLength("Hello from Ada. ".length + "Bob types too! ".length);
    expect(server1.text).toContain("Ada");

    const cyd = await openEditor(browser, server, doc, "Cyd");
    expect(await editorText(cyd.page)).toBe(server1.text);
    await Promise.all([ada.context.close(), bob.context.close(), cyd.context.close()]);
  });

  it("a 3 MB paste reaches the server and the other editor intact, in frames under the limit", async () => {
    const doc = docName("paste");
    const ada = await openEditor(browser, server, doc, "Ada");
    const bob = await openEditor(browser, server, doc, "Bob");
    // Three lines of varied text repeated to 3 000 000 characters, emoji and quotes included.
    const big = await ada.page.evaluate(() => {
      const line = "Pasted \"quote\" — line with émoji 😀 and numbers 0123456789.\n";
      const text = line.repeat(Math.ceil(3_000_000 / line.length)).slice(0, 3_000_000);
      const view = window.collab.view;
      // The transaction CodeMirror makes for a paste.
      view.dispatch({ changes: { from: view.state.doc.length, insert: text }, userEvent: "input.paste" });
      return text;
    });
    await waitSynced(ada.page, 60_000);
    const stored = await server.doc(doc);
    expect(stored.text.length).toBe(big.length);
    expect(stored.text === big).toBe(true);
    await eventually(async () => (await bob.page.evaluate(() => window.collab.view.state.doc.length)) === big.length, 30_000, "Bob to get the paste");
    expect(await bob.page.evaluate((expected) => window.collab.view.state.doc.toString() === expected, big)).toBe(true);
    // Nothing was refused on the way, and the editor still edits.
    expect(await ada.page.locator("#status").textContent()).not.toMatch(/not saved|Reconnecting/);
    await typeAtEnd(bob.page, "!");
    await waitSynced(bob.page);
    expect((await server.doc(doc)).text).toBe(big + "!");
    await Promise.all([ada.context.close(), bob.context.close()]);
  });

  it("shows the other person's named cursor and who is here (screenshot: docs/editor.png)", async () => {
    const doc = docName("cursors");
    const ada = await openEditor(browser, server, doc, "Ada Lovelace", "#e91e63");
    const bob = await openEditor(browser, server, doc, "Bob Kahn", "#3f51b5");
    await typeAtEnd(ada.page, "# Meeting notes\n\nAgenda:\n- ship the editor\n- ");
    await waitSynced(ada.page);
    await eventually(async () => (await editorText(bob.page)).includes("ship the editor"), 10_000, "Bob to see Ada's text");
    await typeAtEnd(bob.page, "celebrate!");
    await bob.page.keyboard.press("Shift+Home");
    await waitSynced(bob.page);

    const label = ada.page.locator(".cm-remote-label", { hasText: "Bob Kahn" });
    await label.waitFor({ state: "visible", timeout: 10_000 });
    await ada.page.locator(".cm-remote-selection").first().waitFor({ state: "visible", timeout: 10_000 });
    await bob.page.locator(".cm-remote-label", { hasText: "Ada Lovelace" }).waitFor({ state: "visible", timeout: 10_000 });
    await ada.page.locator('.person[data-name="Bob Kahn"]').waitFor({ timeout: 10_000 });

    // Two people side by side, each seeing the other's named cursor.
    const shots = await Promise.all([ada.page.screenshot(), bob.page.screenshot()]);
    const composite = await browser.newPage({ viewport: { width: 1816, height: 656 } });
    await composite.setContent(`<body style="margin:0;background:#d9d9e6;display:flex;gap:16px;padding:8px">${
      shots.map((s) => `<img style="border-radius:8px" src="data:image/png;base64,${s.toString("base64")}">`).join("")}</body>`);
    // docs/editor.png is refreshed only on request (COLLAB_SCREENSHOT=1), so a test run leaves the tree clean.
    const shotPath = process.env.COLLAB_SCREENSHOT === "1" ? join(repoRoot, "docs/editor.png") : join(repoRoot, "web/test-results/editor.png");
    mkdirSync(dirname(shotPath), { recursive: true });
    await composite.screenshot({ path: shotPath });
    await composite.close();

    // Bob leaves: his cursor disappears from Ada's editor.
    await bob.context.close();
    await label.waitFor({ state: "detached", timeout: 10_000 });
    await ada.context.close();
  });

  it("a page taken offline keeps typing, comes back and converges", async () => {
    const doc = docName("offline");
    const ada = await openEditor(browser, server, doc, "Ada");
    const bob = await openEditor(browser, server, doc, "Bob");
    await typeAtEnd(ada.page, "shared start. ");
    await waitSynced(ada.page);
    await eventually(async () => (await editorText(bob.page)) === "shared start. ", 10_000, "Bob to catch up");

    await bob.context.setOffline(true);
    await bob.page.waitForFunction(() => document.getElementById("status")?.dataset.status === "offline");
    await typeAtEnd(bob.page, "offline words. ");
    await typeAtEnd(ada.page, "online words. ");
    await waitSynced(ada.page);
    await expect.poll(() => bob.page.locator("#status-text").textContent()).toMatch(/Offline · \d+ unsent edits?/);
    expect(await editorText(bob.page)).toContain("offline words.");

    await bob.context.setOffline(false);
    await waitSynced(bob.page);
    const final = await server.doc(doc);
    expect(final.text).toContain("offline words. ");
    expect(final.text).toContain("online words. ");
    await eventually(async () => (await editorText(ada.page)) === final.text && (await editorText(bob.page)) === final.text,
      10_000, "both pages to converge");
    await Promise.all([ada.context.close(), bob.context.close()]);
  });

  it("a page whose socket is closed under it resumes and resends what was in flight", async () => {
    const doc = docName("dropped");
    const ada = await openEditor(browser, server, doc, "Ada");
    await typeAtEnd(ada.page, "before. ");
    await waitSynced(ada.page);
    // Type, and drop the socket right away (as a flaky network would), several times.
    for (let i = 0; i < 3; i++) {
      await typeAtEnd(ada.page, `burst ${i}. `, 2);
      await ada.page.evaluate(() => (window.collab.connection.activeTransport as unknown as { socket?: WebSocket } | null)?.socket?.close());
    }
    await waitSynced(ada.page);
    const final = await server.doc(doc);
    expect(final.text).toBe("before. burst 0. burst 1. burst 2. ");
    expect(await editorText(ada.page)).toBe(final.text);
    await ada.context.close();
  });

  it("a reload keeps the text", async () => {
    const doc = docName("reload");
    const ada = await openEditor(browser, server, doc, "Ada");
    await typeAtEnd(ada.page, "survives a reload");
    await waitSynced(ada.page);
    await ada.page.reload();
    await waitConnected(ada.page);
    expect(await editorText(ada.page)).toBe("survives a reload");
    await typeAtEnd(ada.page, "!");
    await waitSynced(ada.page);
    expect((await server.doc(doc)).text).toBe("survives a reload!");
    await ada.context.close();
  });
});
