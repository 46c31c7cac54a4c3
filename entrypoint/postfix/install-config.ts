import { chmod, mkdir, mkdtemp, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PostfixError } from './postfix-error.js';
import { runCommand } from './run-command.js';

export interface RenderedConfig {
  readonly mainCf: string;
  readonly masterCf: string;
  /** undefined: no credentials, so no map (and any old one is removed). */
  readonly saslMap: string | undefined;
}

export interface InstallPaths {
  readonly configDir: string;
  readonly saslMapPath: string;
  readonly saslMapType: string;
}

const STAGING_PREFIX = '.staging-';

/**
 * Writes every file into a private staging directory, runs postmap there, and only then
 * renames the results into place: a failure leaves the previous configuration untouched.
 */
export async function installConfig(rendered: RenderedConfig, paths: InstallPaths): Promise<void> {
  await removeStaleStaging(paths.configDir);
  const staging = await mkdtemp(join(paths.configDir, STAGING_PREFIX));
  try {
    await chmod(staging, 0o700);
    const staged = (name: string) => join(staging, name);
    await writeSettled(staged('main.cf'), rendered.mainCf, 0o644);
    await writeSettled(staged('master.cf'), rendered.masterCf, 0o644);
    const mapName = basename(paths.saslMapPath);
    if (rendered.saslMap !== undefined) {
      await writeSettled(staged(mapName), rendered.saslMap, 0o600);
      await postmap(paths.saslMapType, staged(mapName));
      await chmod(staged(`${mapName}.db`), 0o600);
    }

    await mkdir(dirname(paths.saslMapPath), { recursive: true, mode: 0o755 });
    if (rendered.saslMap !== undefined) {
      await rename(staged(`${mapName}.db`), `${paths.saslMapPath}.db`);
      await rename(staged(mapName), paths.saslMapPath);
    } else {
      await rm(`${paths.saslMapPath}.db`, { force: true });
      await rm(paths.saslMapPath, { force: true });
    }
    await rename(staged('master.cf'), join(paths.configDir, 'master.cf'));
    // main.cf last: it is what points at the other files.
    await rename(staged('main.cf'), join(paths.configDir, 'main.cf'));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Postfix re-reads a configuration file, sleeping a second each time, until its mtime is two
 * seconds old (util/load_file.c): that alone cost two seconds per start. Our files are complete
 * when renamed into place, so they are dated in the past.
 */
async function writeSettled(path: string, content: string, mode: number): Promise<void> {
  await writeFile(path, content, { mode });
  const settled = new Date(Date.now() - 10_000);
  await utimes(path, settled, settled);
}

async function postmap(type: string, path: string): Promise<void> {
  const result = await runCommand('postmap', [`${type}:${path}`]);
  if (result.exitCode !== 0) {
    throw new PostfixError('POSTMAP_FAILED', `postmap failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  }
}

/** A container killed mid-install leaves a staging directory; it holds secrets, so remove it. */
async function removeStaleStaging(configDir: string): Promise<void> {
  const entries = await readdir(configDir).catch(() => [] as string[]);
  await Promise.all(
    entries.filter((name) => name.startsWith(STAGING_PREFIX)).map((name) => rm(join(configDir, name), { recursive: true, force: true })),
  );
}
