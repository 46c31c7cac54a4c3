import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run-command.js';
import { SPOOL_DIR } from './prepare-spool.js';

/** Queues that hold mail still to be delivered (hold is left out: held mail waits for an operator). */
const WAITING_QUEUES = ['maildrop', 'incoming', 'active', 'deferred'];

/** Counts queue files directly: no showq round trip, and it works while Postfix is stopping. */
export async function countQueuedMessages(spoolDir = SPOOL_DIR): Promise<number> {
  const counts = await Promise.all(WAITING_QUEUES.map((queue) => countFiles(join(spoolDir, queue))));
  return counts.reduce((sum, count) => sum + count, 0);
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
