import { build } from 'esbuild';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';

/** entrypoint/ → one CommonJS file for the image's Node 20, dependencies included. */
export async function bundleEntrypoint(): Promise<Buffer> {
  const result = await build({
    entryPoints: [join(repoRoot(), 'entrypoint', 'main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced no output');
  return Buffer.from(output.contents);
}
