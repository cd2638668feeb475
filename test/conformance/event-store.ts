import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

interface StoredEvent {
  readonly streamId: string;
  readonly message: JSONRPCMessage;
}

/**
 * Every SSE event a session sent, in order, so a client that lost a stream can resume it with
 * `Last-Event-ID` (the server-sse-polling scenario). Kept for the session's life: test sessions are short.
 */
export class MemoryEventStore implements EventStore {
  private readonly events = new Map<string, StoredEvent>();
  private next = 0;

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}:${++this.next}`;
    this.events.set(id, { streamId, message });
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const streamId = this.events.get(lastEventId)?.streamId;
    if (streamId === undefined) return '';
    let after = false;
    // Map iteration follows insertion order, which is the order the events were sent in.
    for (const [id, event] of this.events) {
      if (after && event.streamId === streamId && Object.keys(event.message).length > 0) await send(id, event.message);
      if (id === lastEventId) after = true;
    }
    return streamId;
  }
}
