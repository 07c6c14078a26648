/**
 * Loopback ports for the local engines. A port found free here can be taken by any other process (an
 * outgoing connection's ephemeral port, a parallel test) before a child process binds it, so a child
 * started on a port we chose is retried on another port when it reports the port taken.
 */
import { createServer } from 'node:net';

/** A port nothing listens on at this instant. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A child could not bind its port because another process holds it. */
export class PortTakenError extends Error {
  override readonly name = 'PortTakenError';
  constructor(
    readonly port: number,
    detail: string,
  ) {
    super(`port ${port} is already in use: ${detail}`);
  }
}

const ATTEMPTS = 5;

/** Starts something on a free port, trying another port when the chosen one is taken meanwhile. */
export async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === ATTEMPTS) throw error;
    }
  }
}
