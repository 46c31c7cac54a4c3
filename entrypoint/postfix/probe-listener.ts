import { isIPv4 } from 'node:net';
import { connect } from 'node:net';

/**
 * Probes come from this loopback address so the supervisor can leave their connect/disconnect
 * lines out of the log: a health check every few seconds would otherwise drown the real traffic.
 */
export const PROBE_SOURCE_ADDRESS = '127.0.0.254';

export function isProbeLogLine(line: string): boolean {
  return line.includes(`[${PROBE_SOURCE_ADDRESS}]`) && /postfix\/smtpd\[/.test(line);
}

/** Where a probe should connect to reach a listener bound to `bind` (undefined: every address). */
export function probeTarget(bind: string | undefined): string {
  if (bind === undefined || bind === '0.0.0.0') return '127.0.0.1';
  return bind === '::' ? '::1' : bind;
}

/** Resolves undefined when the listener greets with 220 within the time, else what went wrong. */
export function probeListener(host: string, port: number, timeoutMs = 2_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const quiet = host.startsWith('127.') && isIPv4(host);
    const socket = connect({ host, port, ...(quiet ? { localAddress: PROBE_SOURCE_ADDRESS } : {}) });
    let received = '';
    const finish = (problem: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => finish(`no 220 greeting from ${host}:${port} within ${timeoutMs} ms`), timeoutMs);
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (!received.includes('\n')) return;
      socket.off('data', onData);
      if (!received.startsWith('220')) return finish(`unexpected greeting from ${host}:${port}: ${received.trim()}`);
      // A polite QUIT, so smtpd logs no "lost connection" for the probe; the reply is not awaited.
      socket.end('QUIT\r\n', () => finish(undefined));
    };
    socket.on('data', onData);
    socket.on('error', (error) => finish(`cannot connect to ${host}:${port}: ${error.message}`));
  });
}
