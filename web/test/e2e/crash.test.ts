// The server process is killed (SIGKILL) and started again on the same data folder: the editor reconnects by
// itself, nothing acknowledged is lost, and what was typed meanwhile arrives.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CollabProcess, editorText, eventually, launchChromium, openEditor, typeAtEnd, waitSynced } from "./harness";

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

it("after the server is killed and restarted the editor reconnects by itself and nothing acknowledged is lost", async () => {
  const doc = `crash-${Math.random().toString(36).slice(2, 8)}`;
  const ada = await openEditor(browser, server, doc, "Ada");
  const bob = await openEditor(browser, server, doc, "Bob");
  await typeAtEnd(ada.page, "acknowledged before the crash. ");
  await waitSynced(ada.page);
  const before = await server.doc(doc);

  await server.kill();
  await ada.page.waitForFunction(() => document.getElementById("status")?.dataset.status !== "connected");
  await typeAtEnd(ada.page, "typed while the server was down. ");
  await expect.poll(() => ada.page.locator("#status").getAttribute("data-unsent")).not.toBe("0");

  await server.start();
  await waitSynced(ada.page, 45_000);
  await waitSynced(bob.page, 45_000);
  const after = await server.doc(doc);
  expect(after.text.startsWith(before.text)).toBe(true);
  expect(after.text).toBe("acknowledged before the crash. typed while the server was down. ");
  await eventually(async () => (await editorText(bob.page)) === after.text && (await editorText(ada.page)) === after.text,
    15_000, "both pages to show the text");
  await Promise.all([ada.context.close(), bob.context.close()]);
});
