// The fallback transport in Chromium against the real server: a page whose WebSockets are blocked (closed at once,
// or accepted and then silent like a buffering proxy) edits over SSE+POST next to a page on a WebSocket; both
// converge with the server; the page says which transport it uses; it survives going offline and a reload.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CollabProcess, editorText, eventually, launchChromium, openEditor, sleep, typeAtEnd, waitConnected, waitSynced,
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
const transportOf = (page: Page) => page.evaluate(() => ({
  label: document.getElementById("transport")?.textContent,
  kind: document.getElementById("status")?.dataset.transport,
}));

/** Every WebSocket of the page to /ws is intercepted: closed at once, or left open and silent. Counts attempts. */
function blockWebSockets(how: "close" | "silent") {
  const blocked = { attempts: 0 };
  const prepare = async (page: Page) => {
    await page.routeWebSocket(/\/ws$/, (ws) => {
      blocked.attempts++;
      if (how === "close") ws.close();
      // "silent": not connected to the server; the page's socket is open and nothing ever answers.
    });
  };
  return { blocked, prepare };
}

/** Streams and POSTs the page sends to /sse, the session tokens its POSTs carry, and every URL it requests. */
function countSse(page: Page) {
  const seen = { streams: 0, posts: 0, tokens: new Set<string>(), urls: [] as string[], postsWithoutToken: 0 };
  page.on("request", (request) => {
    seen.urls.push(request.url());
    const path = new URL(request.url()).pathname;
    if (path !== "/sse") return;
    if (request.method() === "GET") seen.streams++;
    else if (request.method() === "POST") {
      seen.posts++;
      const token = request.headers()["collab-session"];
      if (token) seen.tokens.add(token);
      else seen.postsWithoutToken++;
    }
  });
  return seen;
}

/** The session secret travels in the Collab-Session header only: no URL the page requested holds one. */
function expectNoTokenInUrls(sse: ReturnType<typeof countSse>) {
  expect(sse.tokens.size).toBeGreaterThan(0);
  expect(sse.postsWithoutToken).toBe(0);
  for (const token of sse.tokens) expect(sse.urls.filter((url) => url.includes(token))).toEqual([]);
}

describe("fallback transport", () => {
  it("a page without WebSockets edits over SSE with a page on a WebSocket; both converge, offline and back, reload", async () => {
    const doc = docName("fallback");
    const { blocked, prepare } = blockWebSockets("close");
    let sse = undefined as unknown as ReturnType<typeof countSse>;
    const ada = await openEditor(browser, server, doc, "Ada", "#e91e63", async (page) => {
      sse = countSse(page);
      await prepare(page);
    });
    const bob = await openEditor(browser, server, doc, "Bob", "#3f51b5");
    expect(await transportOf(ada.page)).toEqual({ label: "HTTP streaming (fallback)", kind: "sse" });
    expect(await transportOf(bob.page)).toEqual({ label: "WebSocket", kind: "websocket" });
    expect(blocked.attempts).toBe(1);
    expect(sse.streams).toBe(1);

    await Promise.all([typeAtEnd(ada.page, "Ada over SSE. ", 5), typeAtEnd(bob.page, "Bob on a WebSocket. ", 5)]);
    await Promise.all([waitSynced(ada.page), waitSynced(bob.page)]);
    let final = await server.doc(doc);
    expect(final.text).toHaveLength("Ada over SSE. ".length + "Bob on a WebSocket. ".length);
    await eventually(async () => (await editorText(ada.page)) === final.text && (await editorText(bob.page)) === final.text,
      10_000, "both pages to show the server's text");
    expect(sse.posts).toBeGreaterThan(1);
    expectNoTokenInUrls(sse);

    // The network goes away and comes back: the SSE page keeps its edits and resumes (on SSE again).
    await ada.context.setOffline(true);
    await ada.page.waitForFunction(() => document.getElementById("status")?.dataset.status === "offline");
    await typeAtEnd(ada.page, "offline on SSE. ");
    await typeAtEnd(bob.page, "meanwhile. ");
    await waitSynced(bob.page);
    await ada.context.setOffline(false);
    await waitSynced(ada.page);
    final = await server.doc(doc);
    expect(final.text).toContain("offline on SSE. ");
    expect(final.text).toContain("meanwhile. ");
    await eventually(async () => (await editorText(ada.page)) === final.text && (await editorText(bob.page)) === final.text,
      10_000, "both pages to converge after the outage");
    expect(await transportOf(ada.page)).toEqual({ label: "HTTP streaming (fallback)", kind: "sse" });
    expect(sse.streams).toBe(2);

    // The tab remembers the fallback: a reload goes straight to SSE without trying the WebSocket again.
    await ada.page.reload();
    await waitConnected(ada.page);
    expect(await transportOf(ada.page)).toEqual({ label: "HTTP streaming (fallback)", kind: "sse" });
    expect(blocked.attempts).toBe(1);
    await typeAtEnd(ada.page, "!");
    await waitSynced(ada.page);
    final = await server.doc(doc);
    expect(final.text.endsWith("!")).toBe(true);
    await eventually(async () => (await editorText(bob.page)) === final.text, 10_000, "Bob to see the last edit");
    await Promise.all([ada.context.close(), bob.context.close()]);
  });

  it("a WebSocket that opens but never answers (a buffering proxy) is given up for SSE after a few seconds; an idle SSE session lives on", async () => {
    const doc = docName("buffered");
    const { blocked, prepare } = blockWebSockets("silent");
    let sse = undefined as unknown as ReturnType<typeof countSse>;
    const started = Date.now();
    const ada = await openEditor(browser, server, doc, "Ada", "#e91e63", async (page) => {
      sse = countSse(page);
      await prepare(page);
    });
    const took = Date.now() - started;
    expect(blocked.attempts).toBe(1);
    expect(await transportOf(ada.page)).toEqual({ label: "HTTP streaming (fallback)", kind: "sse" });
    expect(took).toBeLessThan(15_000);
    await typeAtEnd(ada.page, "through the fallback");
    await waitSynced(ada.page);
    expect((await server.doc(doc)).text).toBe("through the fallback");

    // Idle for more than 3 heartbeats (the server's HeartbeatMs is 2000 here): the pings POSTed every heartbeat keep
    // the session, and the heartbeat comments keep the stream from being judged silent.
    await sleep(7_000);
    expect(sse.streams).toBe(1);
    expect(await ada.page.evaluate(() => document.getElementById("status")?.dataset.status)).toBe("connected");
    await typeAtEnd(ada.page, "!");
    await waitSynced(ada.page);
    expect((await server.doc(doc)).text).toBe("through the fallback!");
    expect(sse.streams).toBe(1);
    await ada.context.close();
  });
});
