// Seeded randomness and fake-time waiting for the unit tests, so a failure replays exactly.
//
// Randomized tests run a fixed list of seeds and put the seed in the test name ("(seed 3)"). To replay one seed
// (or try another), set COLLAB_SEED: `COLLAB_SEED=3 npx vitest run test/unit` runs only that seed in every
// randomized test.
import { vi } from "vitest";

/** A small seeded PRNG (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seeds a randomized test runs: COLLAB_SEED (one integer) when set, else `defaults`. */
export function seeds(...defaults: number[]): number[] {
  const fromEnv = process.env.COLLAB_SEED;
  if (fromEnv === undefined || fromEnv === "") return defaults;
  const seed = Number(fromEnv);
  if (!Number.isInteger(seed)) throw new Error(`COLLAB_SEED must be an integer, got ${JSON.stringify(fromEnv)}`);
  return [seed];
}

/**
 * Replaces Math.random with a seeded PRNG for the current test (the production code draws its reconnect jitter
 * from Math.random). Undo with vi.restoreAllMocks().
 */
export function seedMathRandom(seed: number): () => number {
  const random = seeded(seed);
  vi.spyOn(Math, "random").mockImplementation(random);
  return random;
}

/** Fake timers for the logic under test: timeouts, intervals and Date. Microtasks and setImmediate stay real. */
export function useFakeTime(): void {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
}

/**
 * Advances fake time 1 ms at a time until `check` holds; fails after `ms` of fake time. The failure says the
 * fake time it gave up at.
 */
export async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start >= ms) throw new Error(`timed out after ${ms} fake ms waiting for ${what}`);
    await vi.advanceTimersByTimeAsync(1);
  }
}
