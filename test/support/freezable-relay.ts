import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A relay to a real port that can freeze like a process whose event loop got stuck (its port still
 * accepts connections; nothing answers): a hung gateway replica, a hung backend.
 */
export interface FreezableRelay {
  readonly port: number;
  freeze(): void;
  close(): Promise<void>;
}

export async function freezableRelay(target: number): Promise<FreezableRelay> {
  const held = new Set<Socket>();
  let frozen = false;
  const relay: Server = createServer((client) => {
    held.add(client);
    client.on('error', () => undefined);
    if (frozen) return;
    const upstream = connect(target, '127.0.0.1');
    held.add(upstream);
    upstream.on('error', () => undefined);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as AddressInfo).port,
    freeze: () => {
      frozen = true;
      for (const socket of held) {
        socket.unpipe();
        socket.pause();
      }
    },
    close: async () => {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    },
  };
}
