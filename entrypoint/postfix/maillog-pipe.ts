import { constants, openSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { runCommand } from './run-command.js';

/**
 * A FIFO for maillog_file. Postfix cannot open /dev/stdout when it is the socket Node's child
 * pipes are made of (ENXIO), so postlogd writes here and the supervisor reads every line.
 */
export async function openMaillogPipe(path: string, onLine: (line: string) => void): Promise<{ close(): Promise<void> }> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await rm(path, { force: true });
  const made = await runCommand('mkfifo', ['-m', '0600', path]);
  if (made.exitCode !== 0) throw new Error(`cannot create the log pipe ${path}: ${made.stderr.trim()}`);
  // Read-write: the open does not wait for a writer, and the reader never sees end-of-file between writers.
  // Non-blocking and wrapped in a Socket: fs reads on a FIFO would pin a libuv worker thread forever.
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const stream = new Socket({ fd, readable: true, writable: false });
  const lines = createInterface({ input: stream });
  lines.on('line', onLine);
  return {
    close: async () => {
      lines.close();
      stream.destroy();
    },
  };
}
