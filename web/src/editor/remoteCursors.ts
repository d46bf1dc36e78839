/** Other people's cursors and selections as decorations: a caret with the person's name, a tinted selection. */
import { RangeSetBuilder, StateEffect, StateField, type Extension } from "@codemirror/state";
import { Decoration, EditorView, WidgetType, type DecorationSet } from "@codemirror/view";
import type { RemoteCursor } from "../client/presence";

export const setRemoteCursors = StateEffect.define<RemoteCursor[]>();

class CaretWidget extends WidgetType {
  constructor(readonly name: string, readonly color: string) {
    super();
  }
  override eq(other: CaretWidget): boolean {
    return other.name === this.name && other.color === this.color;
  }
  toDOM(): HTMLElement {
    const caret = document.createElement("span");
    caret.className = "cm-remote-caret";
    caret.style.borderColor = this.color;
    const label = document.createElement("span");
    label.className = "cm-remote-label";
    label.textContent = this.name;
    label.style.backgroundColor = this.color;
    caret.appendChild(label);
    return caret;
  }
  override ignoreEvent(): boolean {
    return true;
  }
}

function build(cursors: RemoteCursor[], length: number): DecorationSet {
  const ranges: { from: number; to: number; deco: Decoration }[] = [];
  for (const c of cursors) {
    const anchor = Math.min(c.anchor, length), head = Math.min(c.head, length);
    const from = Math.min(anchor, head), to = Math.max(anchor, head);
    if (from < to) {
      ranges.push({
        from, to,
        deco: Decoration.mark({ class: "cm-remote-selection", attributes: { style: `background-color: ${c.color}33` } }),
      });
    }
    ranges.push({
      from: head, to: head,
      deco: Decoration.widget({ widget: new CaretWidget(c.name, c.color), side: 1 }),
    });
  }
  ranges.sort((a, b) => a.from - b.from || a.deco.startSide - b.deco.startSide);
  const builder = new RangeSetBuilder<Decoration>();
  for (const r of ranges) builder.add(r.from, r.to, r.deco);
  return builder.finish();
}

export const remoteCursorsField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, tr) {
    for (const effect of tr.effects) if (effect.is(setRemoteCursors)) return build(effect.value, tr.newDoc.length);
    return tr.docChanged ? value.map(tr.changes) : value;
  },
  provide: (field) => EditorView.decorations.from(field),
});

export const remoteCursorsTheme = EditorView.baseTheme({
  ".cm-remote-caret": {
    position: "relative",
    borderLeft: "2px solid",
    marginLeft: "-1px",
    marginRight: "-1px",
    pointerEvents: "none",
  },
  ".cm-remote-label": {
    position: "absolute",
    top: "-1.35em",
    left: "-2px",
    padding: "0 5px",
    borderRadius: "4px 4px 4px 0",
    color: "white",
    fontSize: "11px",
    fontFamily: "system-ui, sans-serif",
    fontWeight: "600",
    lineHeight: "1.35em",
    whiteSpace: "nowrap",
    userSelect: "none",
    zIndex: "10",
  },
});

export function remoteCursors(): Extension {
  return [remoteCursorsField, remoteCursorsTheme];
}
