import { request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkReadiness, startHealthServer, type HealthServer, type HealthServerOptions, type Readiness } from '../../entrypoint/health/health-server.js';
import { RelayMetrics } from '../../entrypoint/health/relay-metrics.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

// node:http rather than fetch: no connection pool outliving the test, and any method allowed.
function ask(port: number, method: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  vi.restoreAllMocks();
});

async function start(overrides: Partial<HealthServerOptions> = {}): Promise<HealthServer> {
  server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    isAlive: () => true,
    isReady: async () => ({ ready: true, reasons: [] }),
    metrics: async () => 'gmail_relay_up 1\n',
    ...overrides,
  });
  return server;
}

describe('startHealthServer', () => {
  it('binds a free port when asked for port 0', async () => {
    const { port } = await start();
    expect(port).toBeGreaterThan(0);
  });

  it('answers /healthz from isAlive', async () => {
    let alive = true;
    const { port } = await start({ isAlive: () => alive });
    expect(await ask(port, 'GET', '/healthz')).toMatchObject({ status: 200, body: 'ok\n', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    alive = false;
    expect(await ask(port, 'GET', '/healthz')).toMatchObject({ status: 503, body: 'not alive\n' });
  });

  it('answers /readyz with the reasons one per line', async () => {
    let readiness: Readiness = { ready: true, reasons: [] };
    const { port } = await start({ isReady: async () => readiness });
    expect(await ask(port, 'GET', '/readyz')).toMatchObject({ status: 200, body: 'ready\n' });
    readiness = { ready: false, reasons: ['not accepting mail: connection refused', 'preflight failed: 535 5.7.8'] };
    expect(await ask(port, 'GET', '/readyz?verbose=1')).toMatchObject({ status: 503, body: 'not accepting mail: connection refused\npreflight failed: 535 5.7.8\n' });
  });

  it('answers 503 when the readiness check itself throws', async () => {
    const { port } = await start({ isReady: () => Promise.reject(new Error('probe exploded')) });
    expect(await ask(port, 'GET', '/readyz')).toMatchObject({ status: 503, body: 'check failed: probe exploded\n' });
  });

  it('serves /metrics in the Prometheus text format', async () => {
    const metrics = new RelayMetrics();
    const { port } = await start({ metrics: async () => metrics.renderPrometheus() });
    const answer = await ask(port, 'GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(answer.body).toBe(metrics.renderPrometheus());
  });

  it('answers HEAD with headers and no body', async () => {
    const { port } = await start();
    const answer = await ask(port, 'HEAD', '/healthz');
    expect(answer).toMatchObject({ status: 200, body: '', headers: { 'content-length': '3' } });
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const isReady = vi.fn(async () => ({ ready: true, reasons: [] }));
    const { port } = await start({ isReady });
    expect(await ask(port, 'GET', '/')).toMatchObject({ status: 404, body: 'not found\n' });
    expect(await ask(port, 'GET', '/healthz/extra')).toMatchObject({ status: 404 });
    expect(await ask(port, 'POST', '/nowhere')).toMatchObject({ status: 404 });
    expect(await ask(port, 'POST', '/readyz')).toMatchObject({ status: 405, body: 'method not allowed\n', headers: { allow: 'GET, HEAD' } });
    expect(await ask(port, 'DELETE', '/metrics')).toMatchObject({ status: 405 });
    // Rejected methods run no probes.
    expect(isReady).not.toHaveBeenCalled();
  });

  it('logs nothing per request', async () => {
    const spies = [
      vi.spyOn(console, 'log'),
      vi.spyOn(console, 'info'),
      vi.spyOn(console, 'warn'),
      vi.spyOn(console, 'error'),
      vi.spyOn(process.stdout, 'write'),
      vi.spyOn(process.stderr, 'write'),
    ];
    const { port } = await start({ isAlive: () => false });
    for (const path of ['/healthz', '/readyz', '/metrics', '/missing']) await ask(port, 'GET', path);
    await ask(port, 'PUT', '/healthz');
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('stops listening on close()', async () => {
    const started = await start();
    await ask(started.port, 'GET', '/healthz');
    await started.close();
    server = undefined;
    await expect(ask(started.port, 'GET', '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('rejects when the port is taken', async () => {
    const first = await start();
    await expect(startHealthServer({ host: '127.0.0.1', port: first.port, isAlive: () => true, isReady: async () => ({ ready: true, reasons: [] }), metrics: async () => '' })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});

describe('checkReadiness', () => {
  const relayOk = () => ({ ok: true, reason: 'preflight passed: ok' });

  it('is ready when the listener greets and the relay check passed', async () => {
    expect(await checkReadiness(async () => undefined, relayOk)).toEqual({ ready: true, reasons: [] });
  });

  it('lists every problem', async () => {
    const metrics = new RelayMetrics();
    expect(await checkReadiness(async () => 'no 220 greeting from 127.0.0.1:25 within 2000 ms', () => metrics.relayCheck())).toEqual({
      ready: false,
      reasons: ['not accepting mail: no 220 greeting from 127.0.0.1:25 within 2000 ms', 'no relay check has run yet'],
    });
  });

  it('turns a throwing probe into a reason', async () => {
    expect(await checkReadiness(() => Promise.reject(new Error('ECONNREFUSED')), relayOk)).toEqual({ ready: false, reasons: ['not accepting mail: ECONNREFUSED'] });
  });
});
