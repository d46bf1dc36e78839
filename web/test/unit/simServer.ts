// A simulated collab.v1 document server with the C# grain's semantics: transform the incoming op (as `a`, so its
// insert comes first) over everything committed after its base revision, dedupe (clientId, seq), one revision each.
import { TextOperation } from "../../src/client/textOperation";

export interface Committed {
  rev: number;
  op: TextOperation;
  clientId: string;
  seq: number;
}

export class SimDocument {
  text = "";
  rev = 0;
  readonly log: Committed[] = [];
  private readonly seen = new Map<string, number>();

  /** Returns the committed entry, or the original revision for a duplicate. */
  submit(clientId: string, seq: number, baseRev: number, wire: TextOperation): { duplicate: number } | Committed {
    const original = this.seen.get(`${clientId}#${seq}`);
    if (original !== undefined) return { duplicate: original };
    if (baseRev > this.rev) throw new Error(`rev ${baseRev} is ahead of the document (at ${this.rev})`);
    let op = wire;
    for (const c of this.log.slice(baseRev)) op = TextOperation.transform(op, c.op)[0];
    this.text = op.apply(this.text);
    this.rev++;
    const entry = { rev: this.rev, op, clientId, seq };
    this.log.push(entry);
    this.seen.set(`${clientId}#${seq}`, this.rev);
    return entry;
  }
}

/** A random edit of `text` that never splits a surrogate pair. */
export function randomEdit(text: string, random: () => number): TextOperation {
  const boundary = (p: number) => (p > 0 && p < text.length && /[\udc00-\udfff]/.test(text[p]!) ? p - 1 : p);
  const pos = boundary(Math.floor(random() * (text.length + 1)));
  const op = new TextOperation().retain(pos);
  if (text.length > pos && random() < 0.35) {
    const end = boundary(Math.min(text.length, pos + 1 + Math.floor(random() * 4)));
    op.delete(end - pos);
    op.retain(text.length - end);
    return op;
  }
  const pieces = ["a", "b", "xy", "😀", "é", " ", "\n", "👍🏽"];
  op.insert(pieces[Math.floor(random() * pieces.length)]!);
  op.retain(text.length - pos);
  return op;
}
