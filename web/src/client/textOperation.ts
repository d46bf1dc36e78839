/**
 * TextOperation: the collab.v1 operation type (ot.js style) over UTF-16 code units, with the same semantics as
 * Collab.Ot in C#. Immutable once built; the builder methods (retain/insert/delete) are only used while building.
 */

/** One component in wire form: positive = retain, negative = delete, non-empty string = insert. */
export type OpComponent = number | string;

/** The largest base or target length an operation may have (the C# int range). */
export const MAX_LENGTH = 2147483647;

/** Thrown for an operation that is malformed or does not fit a document (the server's `bad_op`). */
export class OtError extends Error {
  override name = "OtError";
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** True when index i (0 < i < length) falls between the two halves of a surrogate pair. */
export function splitsSurrogatePair(text: string, i: number): boolean {
  return i > 0 && i < text.length && isHigh(text.charCodeAt(i - 1)) && isLow(text.charCodeAt(i));
}

/** True when the string holds a high or low surrogate without its partner. */
export function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isHigh(c)) {
      if (i + 1 < s.length && isLow(s.charCodeAt(i + 1))) i++;
      else return true;
    } else if (isLow(c)) return true;
  }
  return false;
}

export class TextOperation {
  readonly ops: OpComponent[] = [];
  baseLength = 0;
  targetLength = 0;

  static isRetain(c: OpComponent | undefined): c is number {
    return typeof c === "number" && c > 0;
  }
  static isInsert(c: OpComponent | undefined): c is string {
    return typeof c === "string";
  }
  static isDelete(c: OpComponent | undefined): c is number {
    return typeof c === "number" && c < 0;
  }

  retain(n: number): this {
    if (n === 0) return this;
    if (!Number.isSafeInteger(n) || n < 0) throw new OtError(`retain expects a positive integer, got ${n}`);
    this.baseLength += n;
    this.targetLength += n;
    const last = this.ops.length - 1;
    if (TextOperation.isRetain(this.ops[last])) this.ops[last] = (this.ops[last] as number) + n;
    else this.ops.push(n);
    return this;
  }

  insert(s: string): this {
    if (s === "") return this;
    this.targetLength += s.length;
    const ops = this.ops;
    const last = ops.length - 1;
    if (TextOperation.isInsert(ops[last])) {
      ops[last] = (ops[last] as string) + s;
    } else if (TextOperation.isDelete(ops[last])) {
      // Normal form: an insert goes before an adjacent delete.
      if (TextOperation.isInsert(ops[last - 1])) ops[last - 1] = (ops[last - 1] as string) + s;
      else {
        ops.push(ops[last] as number);
        ops[last] = s;
      }
    } else ops.push(s);
    return this;
  }

  delete(n: number): this {
    if (n === 0) return this;
    if (n < 0) n = -n;
    if (!Number.isSafeInteger(n)) throw new OtError(`delete expects an integer, got ${n}`);
    this.baseLength += n;
    const last = this.ops.length - 1;
    if (TextOperation.isDelete(this.ops[last])) this.ops[last] = (this.ops[last] as number) - n;
    else this.ops.push(-n);
    return this;
  }

  /** True when applying the operation changes nothing. */
  isNoop(): boolean {
    return this.ops.length === 0 || (this.ops.length === 1 && TextOperation.isRetain(this.ops[0]));
  }

  equals(other: TextOperation): boolean {
    return (
      this.baseLength === other.baseLength &&
      this.targetLength === other.targetLength &&
      this.ops.length === other.ops.length &&
      this.ops.every((c, i) => c === other.ops[i])
    );
  }

  toJSON(): OpComponent[] {
    return [...this.ops];
  }

  toString(): string {
    return JSON.stringify(this.ops);
  }

  /**
   * Parses the wire form (any JSON value) and normalizes it. Rejects what the server rejects as `bad_op`
   * independent of a document: not an array, a component that is not a non-zero integer or a non-empty string,
   * a lone surrogate, lengths beyond the int range.
   */
  static fromJSON(value: unknown): TextOperation {
    if (!Array.isArray(value)) throw new OtError("an operation is a JSON array");
    const op = new TextOperation();
    value.forEach((c: unknown, i) => {
      if (typeof c === "string") {
        if (c === "") throw new OtError(`op[${i}]: an insert must not be empty`);
        if (hasLoneSurrogate(c)) throw new OtError(`op[${i}]: insert holds a lone surrogate`);
        op.insert(c);
      } else if (typeof c === "number") {
        if (c === 0) throw new OtError(`op[${i}]: 0 is not a valid component`);
        if (!Number.isInteger(c)) throw new OtError(`op[${i}]: ${c} is not an integer`);
        if (Math.abs(c) > MAX_LENGTH) throw new OtError(`op[${i}]: ${c} is outside the int range`);
        if (c > 0) op.retain(c);
        else op.delete(-c);
      } else {
        throw new OtError(`op[${i}]: a component is an integer or a string`);
      }
      if (op.baseLength > MAX_LENGTH || op.targetLength > MAX_LENGTH) throw new OtError("operation is too long");
    });
    return op;
  }

  /** Checks the operation against the document it applies to: base length and surrogate-pair boundaries. */
  validateAgainst(doc: string): void {
    if (this.baseLength !== doc.length) {
      throw new OtError(`op base length ${this.baseLength} does not match the document length ${doc.length}`);
    }
    let index = 0;
    this.ops.forEach((c, i) => {
      if (TextOperation.isInsert(c)) {
        if (splitsSurrogatePair(doc, index)) throw new OtError(`op[${i}]: insert at ${index}, inside a surrogate pair`);
      } else {
        index += Math.abs(c);
        if (splitsSurrogatePair(doc, index)) throw new OtError(`op[${i}]: ends at ${index}, inside a surrogate pair`);
      }
    });
  }

  /** Applies the operation to a document (validating it first). */
  apply(doc: string): string {
    this.validateAgainst(doc);
    const parts: string[] = [];
    let index = 0;
    for (const c of this.ops) {
      if (TextOperation.isInsert(c)) parts.push(c);
      else if (c > 0) {
        parts.push(doc.slice(index, index + c));
        index += c;
      } else index -= c;
    }
    return parts.join("");
  }

  /** The operation that undoes this one, given the document it applied to. */
  invert(doc: string): TextOperation {
    const inverse = new TextOperation();
    let index = 0;
    for (const c of this.ops) {
      if (TextOperation.isInsert(c)) inverse.delete(c.length);
      else if (c > 0) {
        inverse.retain(c);
        index += c;
      } else {
        inverse.insert(doc.slice(index, index - c));
        index -= c;
      }
    }
    return inverse;
  }

  /** compose(a, b): one operation with the effect of a followed by b. */
  compose(b: TextOperation): TextOperation {
    const a = this;
    if (a.targetLength !== b.baseLength) {
      throw new OtError(`compose: the first op's target length ${a.targetLength} differs from the second's base length ${b.baseLength}`);
    }
    const out = new TextOperation();
    const ops1 = a.ops, ops2 = b.ops;
    let i1 = 0, i2 = 0;
    // `any`: the loop narrows by component kind (retain/delete are both numbers), which type guards cannot express.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let op1: any = ops1[i1++], op2: any = ops2[i2++];
    for (;;) {
      if (op1 === undefined && op2 === undefined) break;
      if (TextOperation.isDelete(op1)) {
        out.delete(op1);
        op1 = ops1[i1++];
        continue;
      }
      if (TextOperation.isInsert(op2)) {
        out.insert(op2);
        op2 = ops2[i2++];
        continue;
      }
      if (op1 === undefined || op2 === undefined) throw new OtError("compose: operations do not line up");
      if (TextOperation.isRetain(op1) && TextOperation.isRetain(op2)) {
        if (op1 > op2) { out.retain(op2); op1 -= op2; op2 = ops2[i2++]; }
        else if (op1 === op2) { out.retain(op1); op1 = ops1[i1++]; op2 = ops2[i2++]; }
        else { out.retain(op1); op2 -= op1; op1 = ops1[i1++]; }
      } else if (TextOperation.isInsert(op1) && TextOperation.isDelete(op2)) {
        if (op1.length > -op2) { op1 = op1.slice(-op2); op2 = ops2[i2++]; }
        else if (op1.length === -op2) { op1 = ops1[i1++]; op2 = ops2[i2++]; }
        else { op2 = op2 + op1.length; op1 = ops1[i1++]; }
      } else if (TextOperation.isInsert(op1) && TextOperation.isRetain(op2)) {
        if (op1.length > op2) { out.insert(op1.slice(0, op2)); op1 = op1.slice(op2); op2 = ops2[i2++]; }
        else if (op1.length === op2) { out.insert(op1); op1 = ops1[i1++]; op2 = ops2[i2++]; }
        else { out.insert(op1); op2 = op2 - op1.length; op1 = ops1[i1++]; }
      } else if (TextOperation.isRetain(op1) && TextOperation.isDelete(op2)) {
        if (op1 > -op2) { out.delete(op2); op1 = op1 + op2; op2 = ops2[i2++]; }
        else if (op1 === -op2) { out.delete(op2); op1 = ops1[i1++]; op2 = ops2[i2++]; }
        else { out.delete(op1); op2 = op2 + op1; op1 = ops1[i1++]; }
      } else {
        throw new OtError("compose: unexpected components");
      }
    }
    return out;
  }

  /**
   * transform(a, b) for two operations on the same document: returns [a', b'] with apply(apply(d, a), b') ==
   * apply(apply(d, b), a'). At the same position a's insert comes first (a is the op being rebased).
   */
  static transform(a: TextOperation, b: TextOperation): [TextOperation, TextOperation] {
    if (a.baseLength !== b.baseLength) {
      throw new OtError(`transform: base lengths differ (${a.baseLength} vs ${b.baseLength})`);
    }
    const aPrime = new TextOperation(), bPrime = new TextOperation();
    const ops1 = a.ops, ops2 = b.ops;
    let i1 = 0, i2 = 0;
    // `any`: the loop narrows by component kind (retain/delete are both numbers), which type guards cannot express.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let op1: any = ops1[i1++], op2: any = ops2[i2++];
    for (;;) {
      if (op1 === undefined && op2 === undefined) break;
      if (TextOperation.isInsert(op1)) {
        aPrime.insert(op1);
        bPrime.retain(op1.length);
        op1 = ops1[i1++];
        continue;
      }
      if (TextOperation.isInsert(op2)) {
        aPrime.retain(op2.length);
        bPrime.insert(op2);
        op2 = ops2[i2++];
        continue;
      }
      if (op1 === undefined || op2 === undefined) throw new OtError("transform: operations do not line up");
      let min: number;
      if (TextOperation.isRetain(op1) && TextOperation.isRetain(op2)) {
        if (op1 > op2) { min = op2; op1 -= op2; op2 = ops2[i2++]; }
        else if (op1 === op2) { min = op2; op1 = ops1[i1++]; op2 = ops2[i2++]; }
        else { min = op1; op2 -= op1; op1 = ops1[i1++]; }
        aPrime.retain(min);
        bPrime.retain(min);
      } else if (TextOperation.isDelete(op1) && TextOperation.isDelete(op2)) {
        if (-op1 > -op2) { op1 -= op2; op2 = ops2[i2++]; }
        else if (op1 === op2) { op1 = ops1[i1++]; op2 = ops2[i2++]; }
        else { op2 -= op1; op1 = ops1[i1++]; }
      } else if (TextOperation.isDelete(op1) && TextOperation.isRetain(op2)) {
        if (-op1 > op2) { min = op2; op1 += op2; op2 = ops2[i2++]; }
        else if (-op1 === op2) { min = op2; op1 = ops1[i1++]; op2 = ops2[i2++]; }
        else { min = -op1; op2 += op1; op1 = ops1[i1++]; }
        aPrime.delete(min);
      } else if (TextOperation.isRetain(op1) && TextOperation.isDelete(op2)) {
        if (op1 > -op2) { min = -op2; op1 += op2; op2 = ops2[i2++]; }
        else if (op1 === -op2) { min = op1; op1 = ops1[i1++]; op2 = ops2[i2++]; }
        else { min = op1; op2 += op1; op1 = ops1[i1++]; }
        bPrime.delete(min);
      } else {
        throw new OtError("transform: unexpected components");
      }
    }
    return [aPrime, bPrime];
  }

  /**
   * Where a position in the base text ends up after this operation (Collab.Ot's TransformPosition). An insert
   * exactly at the position pushes it right only when insertBefore is true (use it for the op's own author).
   */
  transformPosition(position: number, insertBefore = false): number {
    if (position < 0 || position > this.baseLength) throw new OtError(`position ${position} is outside 0..${this.baseLength}`);
    let index = 0;
    let shift = 0;
    for (const c of this.ops) {
      if (TextOperation.isInsert(c)) {
        if (index < position || (index === position && insertBefore)) shift += c.length;
        else break;
      } else if (c > 0) {
        index += c;
        if (index > position) break;
      } else {
        const n = -c;
        shift -= Math.min(Math.max(position - index, 0), n);
        index += n;
        if (index > position) break;
      }
    }
    return position + shift;
  }
}

/**
 * An operation turning `from` into `to` by their common prefix and suffix (one replace in the middle), never
 * splitting a surrogate pair. Used to merge local work onto a text that arrived whole instead of as ops.
 */
export function diffOp(from: string, to: string): TextOperation {
  let prefix = 0;
  const max = Math.min(from.length, to.length);
  while (prefix < max && from.charCodeAt(prefix) === to.charCodeAt(prefix)) prefix++;
  if (splitsSurrogatePair(from, prefix) || splitsSurrogatePair(to, prefix)) prefix--;
  let suffix = 0;
  while (
    suffix < max - prefix &&
    from.charCodeAt(from.length - 1 - suffix) === to.charCodeAt(to.length - 1 - suffix)
  ) suffix++;
  if (splitsSurrogatePair(from, from.length - suffix) || splitsSurrogatePair(to, to.length - suffix)) suffix--;
  return new TextOperation()
    .retain(prefix)
    .delete(from.length - prefix - suffix)
    .insert(to.slice(prefix, to.length - suffix))
    .retain(suffix);
}
