import { createServer } from 'node:net';

/** A port the kernel just handed out on host:0; free again once this resolves. */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A random 127.x.y.z address: the fake Gmail listens there on Gmail's real port 587, so each
 * test gets its own upstream and the relay's defaults stay what is tested.
 */
export function randomLoopbackAddress(): string {
  const octet = (low: number, high: number) => low + Math.floor(Math.random() * (high - low + 1));
  return `127.${octet(100, 250)}.${octet(1, 254)}.${octet(1, 254)}`;
}
