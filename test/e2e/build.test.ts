import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BuildError, buildImage } from '../../image/build-image.js';
import { packImageContext } from '../../image/image-context.js';
import { repoRoot } from '../../image/repo-root.js';

const docker = new Docker();
const run = promisify(execFile);

describe('the builder against the real engine', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gmail-relay-build-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await docker.getImage('gmail-relay:broken-step').remove().catch(() => undefined);
  });

  it('packs an unchanged tree to identical bytes, so a rebuild reuses every cached layer', async () => {
    const [first, second] = [await packImageContext(), await packImageContext()];
    expect(first.equals(second)).toBe(true);
    const rebuilt = await buildImage(docker, second, { tag: inject('image') });
    expect(rebuilt.imageId).toBe(inject('imageId'));
    expect(rebuilt.stepsRun).toBe(0);
    expect(rebuilt.stepsCached).toBeGreaterThan(0);
  });

  it('rejects with the failing step and its error text', async () => {
    const dockerfile = join(dir, 'Dockerfile.broken');
    await writeFile(dockerfile, 'FROM debian:trixie-slim\nRUN echo about to fail && exit 3\n');
    const failure = await buildImage(docker, await packImageContext(dockerfile), { tag: 'gmail-relay:broken-step' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BuildError);
    expect((failure as BuildError).message).toContain('RUN echo about to fail && exit 3');
    expect((failure as BuildError).detail).toMatch(/returned a non-zero code: 3/);
  });

  it('makes `npm run image` fail with that step\'s error', async () => {
    const original = await readFile(join(repoRoot(), 'Dockerfile'), 'utf8');
    const dockerfile = join(dir, 'Dockerfile.broken-apt');
    // Break a real step of the product's Dockerfile: a package that does not exist.
    await writeFile(dockerfile, original.replace('tini nodejs', 'tini nodejs no-such-package-gmail-relay'));
    const cli = join(repoRoot(), 'dist', 'image', 'cli.js');
    const result = await run('node', [cli, '--dockerfile', dockerfile, '--tag', 'gmail-relay:broken-step', '--no-smoke'], {
      cwd: repoRoot(),
      maxBuffer: 64 * 1024 * 1024,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/npm run image failed: docker build failed at "Step 2\/\d+ : RUN .*no-such-package-gmail-relay/);
    expect(result.stderr).toMatch(/returned a non-zero code: 100/);
  });
});
