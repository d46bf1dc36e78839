// CodeMirror ChangeSet ⇄ TextOperation, and TextOperation properties beyond the shared vectors.
import { ChangeSet, EditorState } from "@codemirror/state";
import { describe, expect, it } from "vitest";
import { diffOp, TextOperation } from "../../src/client/textOperation";
import { changeSetToOp, opToChanges } from "../../src/editor/changes";
import { seeded, seeds } from "./random";
import { randomEdit } from "./simServer";

describe("CodeMirror changes ⇄ operations", () => {
  it.each(seeds(42, 43, 44))("round-trips random edits, emoji included (both count UTF-16 code units) (seed %i)", (seed) => {
    const random = seeded(seed);
    let state = EditorState.create({ doc: "a😀b\ncd", extensions: EditorState.lineSeparator.of("\n") });
    for (let i = 0; i < 300; i++) {
      const text = state.doc.toString();
      const op = randomEdit(text, random);
      const changes = ChangeSet.of(opToChanges(op), text.length, "\n");
      expect(changeSetToOp(changes, text.length).toJSON()).toEqual(op.toJSON());
      state = state.update({ changes }).state;
      expect(state.doc.toString()).toBe(op.apply(text));
    }
  });

  it("keeps a \\r as a character", () => {
    const state = EditorState.create({ doc: "a\r\nb", extensions: EditorState.lineSeparator.of("\n") });
    expect(state.doc.length).toBe(4);
  });
});

describe("TextOperation properties", () => {
  it.each(seeds(7, 8, 9))("TP1 and compose/apply agreement on random ops (seed %i)", (seed) => {
    const random = seeded(seed);
    for (let i = 0; i < 500; i++) {
      const doc = randomEdit("", random).apply("") + "hello 😀 world";
      const a = randomEdit(doc, random), b = randomEdit(doc, random);
      const [a1, b1] = TextOperation.transform(a, b);
      expect(b1.apply(a.apply(doc))).toBe(a1.apply(b.apply(doc)));
      const c = randomEdit(a.apply(doc), random);
      expect(a.compose(c).apply(doc)).toBe(c.apply(a.apply(doc)));
      expect(a.invert(doc).apply(a.apply(doc))).toBe(doc);
    }
  });

  it("transformPosition matches Collab.Ot (inserts at the position push it only for their author)", () => {
    const op = TextOperation.fromJSON([2, "XY", -1, 3]);
    expect([0, 2, 3, 6].map((p) => op.transformPosition(p))).toEqual([0, 2, 4, 7]);
    expect(op.transformPosition(2, true)).toBe(4);
  });

  it("diffOp never splits a surrogate pair", () => {
    const from = "a😀b", to = "a😁b";
    const op = diffOp(from, to);
    expect(op.apply(from)).toBe(to);
  });
});
