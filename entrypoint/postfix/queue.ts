import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run-command.js';
import { SPOOL_DIR } from './prepare-spool.js';

/** Mail on its way to a delivery attempt; deferred mail waits for its next retry. Hold waits for an operator. */
const IN_FLIGHT_QUEUES = ['maildrop', 'incoming', 'active'];

export interface QueueCounts {
  readonly inFlight: number;
  readonly deferred: number;
}

/** Counts queue files directly: no showq round trip, and it works while Postfix is stopping. */
export async function countQueues(spoolDir = SPOOL_DIR): Promise<QueueCounts> {
  const [inFlight, deferred] = await Promise.all([
    Promise.all(IN_FLIGHT_QUEUES.map((queue) => countFiles(join(spoolDir, queue)))).then((counts) => counts.reduce((a, b) => a + b, 0)),
    countFiles(join(spoolDir, 'deferred')),
  ]);
  return { inFlight, deferred };
}

export async function countQueuedMessages(spoolDir = SPOOL_DIR): Promise<number> {
  const { inFlight, deferred } = await countQueues(spoolDir);
  return inFlight + deferred;
}

async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let count = 0;
  for (const entry of entries) {
    if (entry.isDirectory()) count += await countFiles(join(dir, entry.name));
    else if (entry.isFile()) count += 1;
  }
  return count;
}

/** Asks the queue manager to retry deferred mail now instead of at the next queue run. */
export async function flushQueue(): Promise<void> {
  await runCommand('postqueue', ['-f'], 10_000);
}
