// Remote cursors keyed by sessionId, moved by committed ops; an author's own inserts push its cursor along.
import { describe, expect, it } from "vitest";
import { colorFor, isSafeColor, PresenceTracker } from "../../src/client/presence";
import { TextOperation } from "../../src/client/textOperation";

describe("PresenceTracker", () => {
  it("keys cursors by sessionId and moves them by author tag, never needing a clientId", () => {
    const p = new PresenceTracker();
    p.receive({ type: "presence", doc: "d", sessionId: "s1", author: "tag-bob", user: { name: "Bob" }, rev: 1, anchor: 2, head: 2 }, 1);
    p.receive({ type: "presence", doc: "d", sessionId: "s2", author: "tag-eve", user: null, rev: 1, anchor: 2, head: 2 }, 1);
    // Bob types at his cursor: his cursor moves past his insert, Eve's (at the same place) stays before it.
    p.committed(2, TextOperation.fromJSON([2, "xyz", 1]), "tag-bob");
    const people = p.people();
    expect(people.map((c) => [c.sessionId, c.author, c.name, c.head])).toEqual([["s1", "tag-bob", "Bob", 5], ["s2", "tag-eve", "Anonymous", 2]]);
    expect(people.every((c) => !("clientId" in c))).toBe(true);
    p.receive({ type: "presence", doc: "d", sessionId: "s1", left: true }, 2);
    expect(p.people().map((c) => c.sessionId)).toEqual(["s2"]);
  });

  it("falls back to the sessionId when a presence names no author", () => {
    const p = new PresenceTracker();
    p.receive({ type: "presence", doc: "d", sessionId: "s9", rev: 0, anchor: 0, head: 0 }, 0);
    expect(p.people()[0]!.author).toBe("s9");
  });

  it("never lets a colour that is not #rrggbb into the editor's styles", () => {
    const p = new PresenceTracker();
    for (const [i, color] of ["red;background:url(//x.co/a)", "#12345", "#1234567", "url(x)", "#abcdef"].entries()) {
      p.receive({ type: "presence", doc: "d", sessionId: `s${i}`, author: `a${i}`, user: { name: "X", color }, rev: 0, anchor: 0, head: 0 }, 0);
    }
    const colors = p.people().map((c) => c.color);
    expect(colors.slice(0, 4)).toEqual(["a0", "a1", "a2", "a3"].map(colorFor));
    expect(colors[4]).toBe("#abcdef");
    expect(colors.every(isSafeColor)).toBe(true);
  });
});
