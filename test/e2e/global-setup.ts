import Docker from 'dockerode';
import type { TestProject } from 'vitest/node';
import { buildImage } from '../../image/build-image.js';
import { packImageContext } from '../../image/image-context.js';
import { sweepContainers } from '../../image/smoke/relay-container.js';

export const TEST_IMAGE = 'gmail-relay:e2e';

declare module 'vitest' {
  export interface ProvidedContext {
    image: string;
    imageId: string;
  }
}

/** Builds the image once with the real builder; every e2e file runs containers of it. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const docker = new Docker();
  await docker.ping().catch(() => {
    throw new Error('no Docker engine answers: run scripts/docker-engine.sh up (or bash .ci/run)');
  });
  await sweepContainers(docker);
  const built = await buildImage(docker, await packImageContext(), { tag: TEST_IMAGE });
  process.stdout.write(`e2e image ${TEST_IMAGE} ${built.imageId.slice(7, 19)} (${built.stepsCached} steps cached, ${built.stepsRun} run)\n`);
  project.provide('image', TEST_IMAGE);
  project.provide('imageId', built.imageId);
  return async () => {
    await sweepContainers(docker);
  };
}
