/**
 * Upper bounds on what text and operations weigh in a frame, the same rule as the server's (Collab.Ot WireSize): 1
 * byte for printable ASCII, 2 for `"` and `\`, 6 for anything else (whatever the server escapes). The server refuses
 * an op whose bound exceeds its frame limit, so the client cuts large edits (a paste) into ops under it.
 */
import { TextOperation } from "./textOperation";

/** Bytes one UTF-16 unit may take inside a JSON string. */
export function unitBytes(code: number): number {
  if (code >= 0x20 && code < 0x7f) return code === 0x22 || code === 0x5c ? 2 : 1;
  return 6;
}

/** The most bytes `text` takes as a JSON string literal, quotes included. */
export function stringBytes(text: string): number {
  let bytes = 2;
  for (let i = 0; i < text.length; i++) bytes += unitBytes(text.charCodeAt(i));
  return bytes;
}

/** The most bytes the operation takes as its JSON array (numbers at most 11 bytes, a comma each). */
export function opBytes(op: TextOperation): number {
  let bytes = 2;
  for (const c of op.ops) bytes += 1 + (typeof c === "string" ? stringBytes(c) : 11);
  return bytes;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;

/**
 * Cuts `op` into `[head, tail]` with `head.compose(tail)` equal to `op` and `opBytes(head) <= maxBytes`, or returns
 * null when `op` already fits. `tail` may still be too large: cut it again when it is sent. Never splits a
 * surrogate pair. `maxBytes` must leave room for a few components (at least 64).
 */
export function splitOp(op: TextOperation, maxBytes: number): [TextOperation, TextOperation] | null {
  if (opBytes(op) <= maxBytes) return null;
  if (maxBytes < 64) throw new RangeError("maxBytes must be at least 64");
  const head = new TextOperation();
  // The array's brackets and the retain that closes the head.
  let bytes = 2 + 12;
  let basePos = 0;
  let i = 0;
  let rest: string | null = null;
  for (; i < op.ops.length; i++) {
    const c = op.ops[i]!;
    const cost = typeof c === "string" ? 1 + stringBytes(c) : 12;
    if (bytes + cost <= maxBytes) {
      bytes += cost;
      if (typeof c === "string") head.insert(c);
      else if (c > 0) { head.retain(c); basePos += c; }
      else { head.delete(c); basePos -= c; }
      continue;
    }
    if (typeof c === "string") {
      // As much of this insert as fits.
      let room = maxBytes - bytes - 3;
      let n = 0;
      while (n < c.length) {
        const code = c.charCodeAt(n);
        const pair = isHigh(code) && n + 1 < c.length;
        const cost1 = unitBytes(code) + (pair ? unitBytes(c.charCodeAt(n + 1)) : 0);
        if (cost1 > room) break;
        room -= cost1;
        n += pair ? 2 : 1;
      }
      if (n > 0) head.insert(c.slice(0, n));
      rest = c.slice(n);
    }
    break;
  }
  const written = head.targetLength;
  head.retain(op.baseLength - basePos);
  const tail = new TextOperation().retain(written);
  if (rest !== null) {
    if (rest !== "") tail.insert(rest);
    i++;
  }
  for (; i < op.ops.length; i++) {
    const c = op.ops[i]!;
    if (typeof c === "string") tail.insert(c);
    else if (c > 0) tail.retain(c);
    else tail.delete(c);
  }
  return [head, tail];
}
