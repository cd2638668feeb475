import type { Logger } from 'pino';
import { sessionRef } from '../telemetry/audit.js';
import type { EventLog, ResumePoint } from '../events/log.js';
import type { SessionRecord } from '../session/store.js';
import type { Reply } from './reply.js';

/**
 * The answer to a GET: the session's stream, resumed after `Last-Event-ID` when the id names
 * a stream of this session that can be replayed without a gap. Any other id (malformed, unknown,
 * expired, another session's, or past what the bounds kept) opens a fresh stream with nothing
 * replayed: the same answer in every case, so a probe learns nothing, and a client whose gateway
 * restarted keeps receiving notifications.
 */
export async function streamReply(session: SessionRecord, lastEventId: string | undefined, log: EventLog, logger: Logger): Promise<Reply> {
  if (lastEventId === undefined) return { kind: 'stream', session };
  const resume: ResumePoint | undefined = await log.find(session.id, lastEventId);
  if (resume) return { kind: 'stream', session, resume };
  logger.debug({ session: sessionRef(session.id) }, 'Last-Event-ID cannot be resumed; a fresh stream is opened');
  return { kind: 'stream', session };
}
