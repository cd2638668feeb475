import { randomBytes } from 'node:crypto';

/**
 * Where a client stands in one stream: the stream and the sequence number of the last event it
 * received. The SSE `id` of every event the gateway sends is `<stream>.<seq>`.
 */
export interface EventCursor {
  readonly stream: string;
  readonly seq: number;
}

/**
 * A new stream id: 128 random bits, base64url. The id is the only name of a stream's events, so
 * a client cannot guess another session's stream (and resuming checks the owner besides).
 */
export function newStreamId(): string {
  return randomBytes(16).toString('base64url');
}

/** The SSE event id of event `seq` of `stream`: it names the stream, so a resume finds it. */
export function eventId(stream: string, seq: number): string {
  return `${stream}.${seq}`;
}

const EVENT_ID = /^([A-Za-z0-9_-]{22})\.(\d{1,15})$/;

/** The cursor a `Last-Event-ID` names; undefined for anything the gateway did not issue. */
export function parseEventId(value: string | undefined): EventCursor | undefined {
  const m = value === undefined ? null : EVENT_ID.exec(value.trim());
  return m ? { stream: m[1]!, seq: Number(m[2]) } : undefined;
}
