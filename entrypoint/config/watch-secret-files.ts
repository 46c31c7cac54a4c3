import { unwatchFile, watchFile } from 'node:fs';
import { FILE_VARIABLES } from './env-names.js';
import type { Env } from './resolve-secret-files.js';

/** The files named by NAME_FILE variables. */
export function secretFilePaths(env: Env): string[] {
  return FILE_VARIABLES.map((name) => env[`${name}_FILE`]).filter((path): path is string => path !== undefined);
}

/**
 * Calls onChange when a secret file changes. Polling stat follows symlinks, so it sees Kubernetes'
 * in-place rotation (a swapped ..data symlink) that inotify on the file itself would miss.
 */
export function watchSecretFiles(paths: readonly string[], onChange: (path: string) => void, intervalMs = 1_000): () => void {
  const listeners = paths.map((path) => {
    const listener = (current: { mtimeMs: number; ino: number; size: number }, previous: { mtimeMs: number; ino: number; size: number }) => {
      if (current.mtimeMs !== previous.mtimeMs || current.ino !== previous.ino || current.size !== previous.size) onChange(path);
    };
    watchFile(path, { interval: intervalMs, persistent: false }, listener);
    return { path, listener };
  });
  return () => listeners.forEach(({ path, listener }) => unwatchFile(path, listener));
}
