import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { EXIT_FAILURE, EXIT_OK, type Runtime } from './runtime.js';

const MASTER_PID_FILE = '/var/spool/postfix/pid/master.pid';
const BANNER_TIMEOUT_MS = 2_000;

/** Healthy only if master is alive and the listener greets with 220 within 2 s. Quiet on success. */
export async function healthcheck(runtime: Runtime): Promise<number> {
  const port = Number(runtime.env['SMTP_PORT'] ?? 25);
  const bind = runtime.env['SMTP_BIND'];
  // A wildcard listener is reachable on loopback.
  const host = bind === undefined || bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
  const problem = (await checkMaster()) ?? (await checkBanner(host, port));
  if (problem === undefined) return EXIT_OK;
  runtime.writeStderr(`unhealthy: ${problem}\n`);
  return EXIT_FAILURE;
}

async function checkMaster(): Promise<string | undefined> {
  const pid = Number((await readFile(MASTER_PID_FILE, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return 'postfix master is not running (no pid file)';
  try {
    process.kill(pid, 0);
    return undefined;
  } catch {
    return `postfix master (pid ${pid}) is not running`;
  }
}

function checkBanner(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = '';
    const finish = (problem: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => finish(`no 220 greeting from ${host}:${port} within ${BANNER_TIMEOUT_MS} ms`), BANNER_TIMEOUT_MS);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (!received.includes('\n')) return;
      if (received.startsWith('220')) {
        socket.end('QUIT\r\n');
        finish(undefined);
      } else finish(`unexpected greeting from ${host}:${port}: ${received.trim()}`);
    });
    socket.on('error', (error) => finish(`cannot connect to ${host}:${port}: ${error.message}`));
  });
}
