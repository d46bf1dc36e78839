/** collab.v1 frame types (docs/protocol.md). Operations travel in wire form (OpComponent[]). */
import type { OpComponent } from "./textOperation";

export const SUBPROTOCOL = "collab.v1";

/** Close codes after which the client reconnects and resumes (docs/protocol.md, section 6). */
export const CLOSE_SERVER_SHUTDOWN = 1001;
export const CLOSE_QUEUE_OVERFLOW = 4409;
/** The server heard no ping for too long (the client's timers were stalled, or its POSTs did not get through). */
export const CLOSE_HEARTBEAT_TIMEOUT = 4408;
/** The share link this session joined through was rotated by the document's owner: do not reconnect with it. */
/** Tokens mode: the session's token expired without a refresh. */
export const CLOSE_EXPIRED = 4401;
export const CLOSE_REVOKED = 4403;

/** What a share link lets its holder do (`joined.access`, Links mode only). */
export type Access = "owner" | "edit" | "view";

export interface UserInfo {
  name?: string;
  color?: string;
}

export type ClientFrame =
  | { type: "hello"; clientId: string; instance?: string; user?: UserInfo; token?: string }
  | { type: "auth"; token: string }
  | { type: "join"; doc: string; rev?: number; readOnly?: boolean }
  | { type: "op"; doc: string; rev: number; seq: number; op: OpComponent[] }
  | { type: "presence"; doc: string; rev: number; anchor: number; head: number }
  | { type: "leave"; doc: string }
  /** `live`: answered the moment the server reads it, ahead of earlier frames (a liveness probe, not a barrier). */
  | { type: "ping"; t?: number | string; live?: boolean };

export interface CommittedOp {
  rev: number;
  op: OpComponent[];
  /** The author's public tag (never its clientId, which is a secret of its tab). */
  author: string;
  seq: number;
}

export interface WelcomeFrame {
  type: "welcome";
  sessionId: string;
  /** This session's own tag, as `author` in the frames of its ops and cursor: how it recognises its ops in `joined.ops`. */
  author: string;
  heartbeatMs: number;
  maxMessageBytes: number;
}

export interface JoinedFrame {
  type: "joined";
  doc: string;
  rev: number;
  /** Full-text form. */
  text?: string;
  /** Catch-up form: the ops after `since`, one per revision. */
  since?: number;
  ops?: CommittedOp[];
  /** Links mode: what the session's credential allows (absent in Open mode). */
  access?: Access;
  /** A full text too large for one frame: this frame holds part 1 of `parts`; `text` frames bring the rest. */
  parts?: number;
}

/** Part `part` (2…`parts`) of a full text begun by a `joined` with `parts`: concatenate the `text`s in order. */
export interface TextPartFrame {
  type: "text";
  doc: string;
  rev: number;
  part: number;
  parts: number;
  text: string;
}

export interface AckFrame {
  type: "ack";
  doc: string;
  seq: number;
  rev: number;
}

export interface OpFrame extends CommittedOp {
  type: "op";
  doc: string;
}

export interface PresenceFrame {
  type: "presence";
  doc: string;
  sessionId: string;
  author?: string;
  user?: UserInfo | null;
  rev?: number;
  anchor?: number;
  head?: number;
  left?: boolean;
}

export type ErrorCode =
  | "bad_json" | "unknown_type" | "bad_request" | "bad_op" | "stale_rev" | "not_joined"
  | "too_large" | "rate_limited" | "forbidden" | "unauthorized" | "internal"
  /** `join`: another live session, of another page, holds this clientId for the document (retryAfterMs). */
  | "client_id_in_use";

export interface ErrorFrame {
  type: "error";
  code: ErrorCode | string;
  message: string;
  doc?: string;
  seq?: number;
  fatal?: boolean;
  retryAfterMs?: number;
}

export type ServerFrame =
  | WelcomeFrame
  | JoinedFrame
  | TextPartFrame
  | AckFrame
  | OpFrame
  | PresenceFrame
  | ErrorFrame
  | { type: "left"; doc: string }
  | { type: "authed"; author?: string }
  | { type: "pong"; t?: number | string };

/** Document ids the server accepts: 1–128 of [A-Za-z0-9._-]. */
export const isValidDocId = (doc: string): boolean => /^[A-Za-z0-9._-]{1,128}$/.test(doc);

/** Client ids (and page instances) the server accepts: 1–64 of [A-Za-z0-9_-]. */
export const isValidClientId = (id: string): boolean => /^[A-Za-z0-9_-]{1,64}$/.test(id);
