import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PostfixError } from './postfix-error.js';
import { runCommand } from './run-command.js';

export const SPOOL_DIR = '/var/spool/postfix';

/** Queue directories and their owners, as Postfix's postfix-files sets them. */
const EXPECTED: readonly { dir: string; owner: 'root' | 'postfix'; group?: 'postdrop' }[] = [
  ...['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'private', 'saved', 'trace'].map(
    (dir) => ({ dir, owner: 'postfix' as const }),
  ),
  { dir: 'maildrop', owner: 'postfix', group: 'postdrop' },
  { dir: 'public', owner: 'postfix', group: 'postdrop' },
  { dir: 'pid', owner: 'root' },
];

/**
 * Makes a reused or freshly mounted spool usable: a quick stat of the queue directories, and
 * `postfix set-permissions` (about 0.7 s) only when one is missing or owned by someone else.
 * Then marks the start as quick, since postfix-script's own checks take a second on every start.
 * Returns what was repaired, for the log.
 */
export async function prepareSpool(spoolDir = SPOOL_DIR): Promise<string[]> {
  const ids = { root: 0, postfix: await lookupId('/etc/passwd', 'postfix'), postdrop: await lookupId('/etc/group', 'postdrop') };
  const wrong: string[] = [];
  for (const { dir, owner, group } of EXPECTED) {
    const info = await stat(join(spoolDir, dir)).catch(() => undefined);
    if (info === undefined) wrong.push(`${dir} (missing)`);
    else if (info.uid !== ids[owner] || (group !== undefined && info.gid !== ids[group])) wrong.push(`${dir} (owned by ${info.uid}:${info.gid})`);
  }
  if (wrong.length > 0) {
    const result = await runCommand('postfix', ['set-permissions']);
    if (result.exitCode !== 0) throw new PostfixError('POSTFIX_START_FAILED', `cannot repair ${spoolDir}: ${result.stderr.trim()}`);
    // Queue file names may not match their inodes after a restore; postsuper renames them.
    await runCommand('postsuper', ['-s']);
  }
  // postfix-script skips its start-up checks when this file exists (and removes it).
  await writeFile(join(spoolDir, 'quick-start'), '');
  return wrong;
}

async function lookupId(file: string, name: string): Promise<number> {
  const line = (await readFile(file, 'utf8')).split('\n').find((entry) => entry.startsWith(`${name}:`));
  const id = Number(line?.split(':')[2]);
  if (!Number.isInteger(id)) throw new PostfixError('POSTFIX_START_FAILED', `no ${name} entry in ${file}`);
  return id;
}
