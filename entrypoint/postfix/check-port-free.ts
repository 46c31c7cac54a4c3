import { createServer } from 'node:net';

/**
 * Binds and releases host:port, so that a port already taken (with --network host, often by the
 * host's own mail server) is reported by name: Postfix's master would only exit with code 1.
 */
export function checkPortFree(variable: string, host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        resolve(`${variable}=${port}: ${host}:${port} is already in use (with --network host the container shares the host's ports; is another mail server running there?). Pick another ${variable} or stop that service`);
      } else if (error.code === 'EADDRNOTAVAIL') {
        resolve(`${host} is not an address of this container, so nothing can listen on it; check SMTP_BIND`);
      } else {
        resolve(`cannot listen on ${host}:${port} (${error.code ?? error.message})`);
      }
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
