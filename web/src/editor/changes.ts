/** CodeMirror ChangeSet ⇄ TextOperation. Both count UTF-16 code units, so positions map one to one. */
import type { ChangeSet, ChangeSpec } from "@codemirror/state";
import { TextOperation } from "../client/textOperation";

/** The operation a transaction's changes make to a document of `length` code units. */
export function changeSetToOp(changes: ChangeSet, length: number): TextOperation {
  const op = new TextOperation();
  let pos = 0;
  changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    op.retain(fromA - pos);
    op.insert(inserted.toString());
    op.delete(toA - fromA);
    pos = toA;
  });
  op.retain(length - pos);
  return op;
}

/** The changes (in the coordinates of the document before) that an operation makes. */
export function opToChanges(op: TextOperation): ChangeSpec[] {
  const changes: { from: number; to: number; insert: string }[] = [];
  let pos = 0;
  for (const c of op.ops) {
    if (TextOperation.isInsert(c)) changes.push({ from: pos, to: pos, insert: c });
    else if (c > 0) pos += c;
    else {
      const last = changes[changes.length - 1];
      // Normal form puts an insert before the delete at the same place: make it one replacement.
      if (last && last.to === pos && last.from === pos) last.to = pos - c;
      else changes.push({ from: pos, to: pos - c, insert: "" });
      pos -= c;
    }
  }
  return changes;
}
