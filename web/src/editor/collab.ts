/**
 * The thin adapter between a CodeMirror view and a DocSession: local transactions become operations, remote
 * operations become transactions annotated as remote (and kept out of the undo history), cursors become decorations.
 */
import { Annotation, EditorState, Transaction, type Extension } from "@codemirror/state";
import { EditorView, ViewPlugin, type ViewUpdate } from "@codemirror/view";
import type { DocSession, EditorHost } from "../client/docSession";
import type { RemoteCursor } from "../client/presence";
import type { TextOperation } from "../client/textOperation";
import { changeSetToOp, opToChanges } from "./changes";
import { remoteCursors, setRemoteCursors } from "./remoteCursors";

/** Marks transactions that carry other people's edits (or the server's text), not the user's. */
export const remoteEdit = Annotation.define<boolean>();

/** The CodeMirror extensions that connect `view` to `session`. */
export function collab(session: DocSession): Extension {
  const plugin = ViewPlugin.fromClass(
    class implements EditorHost {
      constructor(readonly view: EditorView) {
        session.attach(this);
        queueMicrotask(() => this.setCursors(session.cursors()));
      }
      applyRemote(op: TextOperation): void {
        if (op.isNoop()) return;
        this.view.dispatch({
          changes: opToChanges(op),
          annotations: [remoteEdit.of(true), Transaction.addToHistory.of(false)],
        });
      }
      private updating = false;
      private cursorsQueued = false;
      setCursors(cursors: RemoteCursor[]): void {
        if (!this.updating) {
          this.view.dispatch({ effects: setRemoteCursors.of(cursors) });
          return;
        }
        // Called from inside our own update (a local edit moved them): dispatch right after it.
        if (this.cursorsQueued) return;
        this.cursorsQueued = true;
        queueMicrotask(() => {
          this.cursorsQueued = false;
          this.view.dispatch({ effects: setRemoteCursors.of(session.cursors()) });
        });
      }
      update(update: ViewUpdate): void {
        this.updating = true;
        try {
          this.handle(update);
        } finally {
          this.updating = false;
        }
      }
      private handle(update: ViewUpdate): void {
        for (const tr of update.transactions) {
          if (!tr.docChanged || tr.annotation(remoteEdit)) continue;
          session.localChange(changeSetToOp(tr.changes, tr.startState.doc.length));
        }
        if (update.selectionSet || update.docChanged) {
          const { anchor, head } = update.state.selection.main;
          session.localSelectionChanged(anchor, head);
        }
      }
      destroy(): void {
        session.detach();
      }
    },
  );
  // Only "\n" separates lines, so the editor's text is exactly the server's (a "\r" stays a character).
  return [EditorState.lineSeparator.of("\n"), remoteCursors(), plugin];
}
