import { readFile } from 'node:fs/promises';
import { probeListener, probeTarget } from '../postfix/probe-listener.js';
import { EXIT_FAILURE, EXIT_OK, type Runtime } from './runtime.js';

const MASTER_PID_FILE = '/var/spool/postfix/pid/master.pid';

/** Docker's HEALTHCHECK: healthy only if master is alive and the listener greets with 220 within 2 s. Quiet on success. */
export async function healthcheck(runtime: Runtime): Promise<number> {
  // Only the two listening settings are read: a health probe must not fail on unrelated configuration.
  const port = Number(runtime.env['SMTP_PORT'] ?? 25);
  const host = probeTarget(runtime.env['SMTP_BIND']);
  const problem = (await checkMaster()) ?? (await probeListener(host, port));
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
