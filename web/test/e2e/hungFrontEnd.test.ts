// A front end that hangs (a SIGSTOPped process, a VM paused: the socket stays open and nothing is answered) behind a
// load balancer that sends new connections elsewhere. Here the page's WebSocket is routed through Playwright: the
// sockets open at the freeze stop carrying frames both ways, new ones carry them as usual (the "other front end").
// The editor must notice by its live pings, move, and have what was typed reach the other page within 5 s.
import type { Browser, Page, WebSocketRoute } from "playwright-core";
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

/** Routes the page's /ws through the test; `freeze()` hangs every socket open at that moment. */
function hangableWebSockets() {
  const open = new Set<{ frozen: boolean }>();
  let sockets = 0;
  const prepare = async (page: Page) => {
    await page.routeWebSocket(/\/ws$/, (ws: WebSocketRoute) => {
      sockets++;
      const state = { frozen: false };
      open.add(state);
      const upstream = ws.connectToServer();
      ws.onMessage((message) => { if (!state.frozen) upstream.send(message); });
      upstream.onMessage((message) => { if (!state.frozen) ws.send(message); });
      ws.onClose(() => open.delete(state));
    });
  };
  const freeze = () => { for (const state of open) state.frozen = true; };
  return { prepare, freeze, sockets: () => sockets };
}

it("an editor whose front end hangs moves to another and what it typed reaches the others within 5 s", async () => {
  const doc = `hung-${Math.random().toString(36).slice(2, 8)}`;
  const routed = hangableWebSockets();
  const ada = await openEditor(browser, server, doc, "Ada", "#e91e63", routed.prepare);
  const bob = await openEditor(browser, server, doc, "Bob", "#3f51b5");
  await typeAtEnd(ada.page, "before. ");
  await waitSynced(ada.page);
  expect(routed.sockets()).toBe(1);

  routed.freeze();
  const frozenAt = Date.now();
  await typeAtEnd(ada.page, "during.", 5);
  await eventually(async () => (await editorText(bob.page)) === "before. during.", 15_000, "Bob to see what Ada typed after the freeze");
  const took = Date.now() - frozenAt;
  console.log(`hung front end: the other page had the text typed after the freeze ${took} ms after it (WebSocket sockets: ${routed.sockets()})`);
  expect(routed.sockets()).toBe(2);
  // The goal, 5 s: 1 s of silence, a live ping unanswered for 2 s (checked every 250 ms), a new socket, join, resend.
  expect(took).toBeLessThanOrEqual(5_000);
  await waitSynced(ada.page);
  expect((await server.doc(doc)).text).toBe("before. during.");
  await ada.context.close();
  await bob.context.close();
});
