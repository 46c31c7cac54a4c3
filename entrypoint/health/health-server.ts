import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RelayCheck } from './relay-metrics.js';

export interface Readiness {
  readonly ready: boolean;
  readonly reasons: string[];
}

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  readonly isAlive: () => boolean;
  readonly isReady: () => Promise<Readiness>;
  readonly metrics: () => Promise<string>;
}

export interface HealthServer {
  /** The bound port: the real one when options.port was 0. */
  readonly port: number;
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';
// The Prometheus text exposition format's content type.
const METRICS = 'text/plain; version=0.0.4; charset=utf-8';

/** Ready when the SMTP listener greets (probe resolves undefined) and the relay last worked. */
export async function checkReadiness(probeListener: () => Promise<string | undefined>, relayCheck: () => RelayCheck): Promise<Readiness> {
  const reasons: string[] = [];
  const listenerProblem = await probeListener().catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
  if (listenerProblem !== undefined) reasons.push(`not accepting mail: ${listenerProblem}`);
  const relay = relayCheck();
  if (!relay.ok) reasons.push(relay.reason);
  return { ready: reasons.length === 0, reasons };
}

type Reply = readonly [status: number, contentType: string, body: string];

const ROUTES: Readonly<Record<string, (options: HealthServerOptions) => Promise<Reply>>> = {
  '/healthz': async (options) => (options.isAlive() ? [200, TEXT, 'ok\n'] : [503, TEXT, 'not alive\n']),
  '/readyz': async (options) => {
    const { ready, reasons } = await options.isReady();
    return ready ? [200, TEXT, 'ready\n'] : [503, TEXT, reasons.map((reason) => `${reason}\n`).join('') || 'not ready\n'];
  },
  '/metrics': async (options) => [200, METRICS, await options.metrics()],
};

async function reply(request: IncomingMessage, options: HealthServerOptions): Promise<Reply> {
  const path = new URL(request.url ?? '/', 'http://health').pathname;
  const run = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  if (run === undefined) return [404, TEXT, 'not found\n'];
  if (request.method !== 'GET' && request.method !== 'HEAD') return [405, TEXT, 'method not allowed\n'];
  // A failing probe is an answer, not a crash: 503 for readiness, 500 otherwise.
  return run(options).catch((error: unknown) => [path === '/readyz' ? 503 : 500, TEXT, `check failed: ${error instanceof Error ? error.message : String(error)}\n`]);
}

async function handle(request: IncomingMessage, response: ServerResponse, options: HealthServerOptions): Promise<void> {
  const [status, contentType, body] = await reply(request, options);
  const headers: Record<string, string | number> = { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' };
  if (status === 405) headers['allow'] = 'GET, HEAD';
  response.writeHead(status, headers);
  response.end(request.method === 'HEAD' ? undefined : body);
}

/** Serves /healthz, /readyz and /metrics. Silent per request: probes every few seconds would drown the log. */
export function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((request, response) => {
    void handle(request, response, options).catch(() => response.destroy());
  });
  // A stuck client must not hold a socket for long; probes are tiny.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            // Idle keep-alive sockets would otherwise hold close() open until they time out.
            server.closeIdleConnections();
          }),
      });
    });
  });
}
