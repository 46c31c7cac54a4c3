import { readFile } from 'node:fs/promises';

/**
 * The container's memory as `docker stats` counts it (usage less inactive page cache), read
 * straight from its cgroup so that a burst can be sampled every few milliseconds.
 */
export async function readContainerMemory(containerId: string): Promise<number> {
  for (const reader of [cgroupV1, cgroupV2]) {
    const bytes = await reader(containerId).catch(() => undefined);
    if (bytes !== undefined) return bytes;
  }
  throw new Error(`cannot find the memory cgroup of container ${containerId.slice(0, 12)}`);
}

async function cgroupV1(id: string): Promise<number> {
  const dir = `/sys/fs/cgroup/memory/docker/${id}`;
  const usage = Number(await readFile(`${dir}/memory.usage_in_bytes`, 'utf8'));
  return usage - statField(await readFile(`${dir}/memory.stat`, 'utf8'), 'total_inactive_file');
}

async function cgroupV2(id: string): Promise<number> {
  for (const dir of [`/sys/fs/cgroup/system.slice/docker-${id}.scope`, `/sys/fs/cgroup/docker/${id}`]) {
    const current = await readFile(`${dir}/memory.current`, 'utf8').catch(() => undefined);
    if (current !== undefined) return Number(current) - statField(await readFile(`${dir}/memory.stat`, 'utf8'), 'inactive_file');
  }
  throw new Error('no cgroup v2 directory');
}

function statField(stat: string, name: string): number {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(stat);
  return match ? Number(match[1]) : 0;
}

/** Samples until stopped; resolves with the highest reading. */
export function samplePeakMemory(containerId: string, intervalMs = 25): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await readContainerMemory(containerId).catch(() => 0));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peak;
    },
  };
}
