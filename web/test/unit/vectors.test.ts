// The OT vectors shared with the C# tests (tests/vectors/*.json): every case must pass on both sides.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { TextOperation } from "../../src/client/textOperation";

const vectors = resolve(import.meta.dirname, "../../../tests/vectors");
const load = <T>(file: string): T[] => JSON.parse(readFileSync(resolve(vectors, file), "utf8")) as T[];
const op = (json: unknown) => TextOperation.fromJSON(json);

interface TransformCase { name: string; doc: string; a: unknown; b: unknown; aPrime: unknown; bPrime: unknown; result: string }
interface ComposeCase { name: string; doc: string; a: unknown; b: unknown; composed: unknown; result: string }
interface ApplyCase { name: string; doc: string; op: unknown; result: string }
interface InvalidCase { name: string; doc: string; op: unknown; reason: string }

describe("transform vectors", () => {
  const cases = load<TransformCase>("transform.json");
  it("has cases", () => expect(cases.length).toBeGreaterThan(10));
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const [aPrime, bPrime] = TextOperation.transform(op(c.a), op(c.b));
    expect(aPrime.toJSON()).toEqual(op(c.aPrime).toJSON());
    expect(bPrime.toJSON()).toEqual(op(c.bPrime).toJSON());
    expect(bPrime.apply(op(c.a).apply(c.doc))).toBe(c.result);
    expect(aPrime.apply(op(c.b).apply(c.doc))).toBe(c.result);
  });
});

describe("compose vectors", () => {
  const cases = load<ComposeCase>("compose.json");
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const composed = op(c.a).compose(op(c.b));
    expect(composed.toJSON()).toEqual(op(c.composed).toJSON());
    expect(composed.apply(c.doc)).toBe(c.result);
    expect(op(c.b).apply(op(c.a).apply(c.doc))).toBe(c.result);
  });
});

describe("apply vectors", () => {
  const cases = load<ApplyCase>("apply.json");
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(op(c.op).apply(c.doc)).toBe(c.result);
  });
});

describe("invalid-op vectors", () => {
  const cases = load<InvalidCase>("invalid-ops.json");
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(() => op(c.op).validateAgainst(c.doc)).toThrow();
  });
});
