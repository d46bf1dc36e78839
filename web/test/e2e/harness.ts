// The end-to-end harness: the real server process (started and killed by the tests) and Debian's Chromium.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const repoRoot = resolve(import.meta.dirname, "../../..");
export const serverDll = join(repoRoot, "src/Collab.Web/bin/Debug/net10.0/Collab.Web.dll");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

/** One Collab server process on a data folder; it can be killed and started again on the same folder and port. */
export class CollabProcess {
  private child: ChildProcess | null = null;
  private output = "";
  readonly dataPath = mkdtempSync(join(tmpdir(), "collab-e2e-"));
  port = 0;
  private siloPort = 0;

  /** `extraArgs`: more command-line settings, e.g. `--Collab:Access:Mode Links …`. */
  constructor(private readonly extraArgs: string[] = []) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    if (!this.siloPort) this.siloPort = await freePort();
    this.output = "";
    const child = spawn("dotnet", [
      serverDll,
      "--contentRoot", join(repoRoot, "src/Collab.Web"),
      "--urls", this.baseUrl,
      "--environment", "Production",
      "--Collab:Storage:DataPath", this.dataPath,
      "--Collab:Cluster:SiloPort", String(this.siloPort),
      "--Collab:FrontEnd:HeartbeatMs", "2000",
      "--Logging:LogLevel:Default", "Warning",
      ...this.extraArgs,
    ], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    child.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${this.output}`);
      try {
        const res = await fetch(`${this.baseUrl}/readyz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`server did not become ready:\n${this.output}`);
  }

  /** SIGKILL: no graceful shutdown, no close frames. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((ok) => child.once("exit", ok));
    child.kill("SIGKILL");
    await exited;
    this.child = null;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dataPath, { recursive: true, force: true });
  }

  /** `GET /api/docs/{doc}`; in Links mode with a link's `token`. */
  async doc(doc: string, token?: string): Promise<{ doc: string; rev: number; text: string }> {
    const res = await fetch(`${this.baseUrl}/api/docs/${doc}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
    if (!res.ok) throw new Error(`GET /api/docs/${doc}: ${res.status}`);
    return (await res.json()) as { doc: string; rev: number; text: string };
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

/**
 * A person: their own browser context (own localStorage), one editor page on `doc`. `prepare` runs before the page
 * loads (e.g. to route its WebSockets).
 */
export async function openEditor(browser: Browser, server: CollabProcess, doc: string, name: string, color = "#e91e63",
  prepare?: (page: Page) => Promise<void>): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 900, height: 640 } });
  await context.addInitScript(([n, c]) => {
    if (!localStorage.getItem("collab.me")) localStorage.setItem("collab.me", JSON.stringify({ name: n, color: c }));
  }, [name, color]);
  const page = await context.newPage();
  await prepare?.(page);
  await page.goto(`${server.baseUrl}/d/${doc}`);
  await waitConnected(page);
  return { context, page };
}

export async function waitConnected(page: Page, timeout = 30_000): Promise<void> {
  await page.waitForFunction(() => document.getElementById("status")?.dataset.status === "connected", undefined, { timeout });
}

/** Waits until nothing is unsent. */
export async function waitSynced(page: Page, timeout = 30_000): Promise<void> {
  await page.waitForFunction(() => {
    const s = document.getElementById("status");
    return s?.dataset.status === "connected" && s.dataset.unsent === "0";
  }, undefined, { timeout });
}

export const editorText = (page: Page): Promise<string> => page.evaluate(() => window.collab.view.state.doc.toString());

/** Types at the end of the document, key by key. */
export async function typeAtEnd(page: Page, text: string, delay = 15): Promise<void> {
  await page.evaluate(() => {
    const view = window.collab.view;
    view.focus();
    view.dispatch({ selection: { anchor: view.state.doc.length } });
  });
  await page.keyboard.type(text, { delay });
}

export async function eventually(check: () => Promise<boolean>, timeout = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
