import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { packBuildContext, type ContextFile } from './build-context.js';
import { bundleEntrypoint } from './bundle-entrypoint.js';
import { repoRoot } from './repo-root.js';

/** The explicit list of what the image is built from: the Dockerfile and the bundled entrypoint. */
export async function imageContextFiles(dockerfile = join(repoRoot(), 'Dockerfile')): Promise<ContextFile[]> {
  return [
    { path: 'Dockerfile', content: await readFile(dockerfile) },
    { path: 'entrypoint.cjs', content: await bundleEntrypoint() },
  ];
}

export async function packImageContext(dockerfile?: string): Promise<Buffer> {
  return packBuildContext(await imageContextFiles(dockerfile));
}
