import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';

/** Every container a test or the smoke run makes carries this label, so leftovers can be swept. */
export const CONTAINER_LABEL = 'gmail-relay.test';

export interface RelayContainerOptions {
  readonly image: string;
  readonly env: Readonly<Record<string, string>>;
  /** "name:address" pairs, e.g. smtp.gmail.com:127.1.2.3. */
  readonly extraHosts?: readonly string[];
  /** "hostPath:containerPath[:ro]". */
  readonly binds?: readonly string[];
  readonly cmd?: readonly string[];
  /** Replaces the image's entrypoint (the benchmark's how-to baseline). */
  readonly entrypoint?: readonly string[];
  readonly owner?: string;
}

export interface RelayContainer {
  readonly id: string;
  /** Date.now() just before the start request: where start-up timings count from. */
  readonly startedAt: number;
  readonly container: Dockerode.Container;
  logs(): Promise<string>;
  /** Polls the log until a line matches; rejects with the whole log on time-out. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the container has stopped. */
  wait(): Promise<number>;
  remove(): Promise<void>;
}

/**
 * Host networking would hand containers the host's resolv.conf, whose name server is neither on
 * loopback nor reachable here: every lookup that falls through /etc/hosts would wait 5 s for it.
 * Containers get this one instead, so a lookup fails at once and no packet leaves loopback.
 */
async function loopbackResolvConf(): Promise<string> {
  const path = join(tmpdir(), 'gmail-relay-test-resolv.conf');
  await writeFile(path, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n', { mode: 0o644 });
  return path;
}

/** Creates and starts a relay container on the host network (the only network these machines allow). */
export async function startRelayContainer(docker: Dockerode, options: RelayContainerOptions): Promise<RelayContainer> {
  const container = await docker.createContainer({
    Image: options.image,
    ...(options.cmd ? { Cmd: [...options.cmd] } : {}),
    ...(options.entrypoint ? { Entrypoint: [...options.entrypoint] } : {}),
    Env: Object.entries(options.env).map(([name, value]) => `${name}=${value}`),
    Labels: { [CONTAINER_LABEL]: options.owner ?? 'smoke' },
    HostConfig: {
      NetworkMode: 'host',
      ExtraHosts: [...(options.extraHosts ?? [])],
      Binds: [`${await loopbackResolvConf()}:/etc/resolv.conf:ro`, ...(options.binds ?? [])],
    },
  });
  const startedAt = Date.now();
  await container.start();
  return {
    id: container.id,
    startedAt,
    container,
    logs: () => readLogs(container),
    waitForLog: (pattern, timeoutMs = 15_000) => waitForLog(container, pattern, timeoutMs),
    wait: async () => ((await container.wait()) as { StatusCode: number }).StatusCode,
    remove: () => container.remove({ force: true, v: true }).catch(ignoreMissing),
  };
}

/** Runs a container to completion (e.g. print-config or a bad configuration) and returns its output. */
export async function runRelayToExit(
  docker: Dockerode,
  options: RelayContainerOptions,
): Promise<{ exitCode: number; output: string; changes: string[] }> {
  const relay = await startRelayContainer(docker, options);
  try {
    const exitCode = await relay.wait();
    // The container's file-system diff shows whether anything was written before it stopped.
    return { exitCode, output: await relay.logs(), changes: await changedPaths(relay.container) };
  } finally {
    await relay.remove();
  }
}

/** The container's file-system diff; dockerode hands the JSON body back unparsed. */
async function changedPaths(container: Dockerode.Container): Promise<string[]> {
  const body: unknown = await container.changes();
  const parsed = (Buffer.isBuffer(body) ? JSON.parse(body.toString('utf8')) : body) as { Path: string }[] | null;
  return (parsed ?? []).map((change) => change.Path);
}

async function waitForLog(container: Dockerode.Container, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const logs = await readLogs(container);
    if (pattern.test(logs)) return logs;
    if (Date.now() > deadline) throw new Error(`no log line matched ${pattern} within ${timeoutMs} ms; the log:\n${logs}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function readLogs(container: Dockerode.Container): Promise<string> {
  const raw = await container.logs({ stdout: true, stderr: true, follow: false });
  return demultiplex(raw as unknown as Buffer);
}

/** Docker multiplexes stdout/stderr in 8-byte-header frames when the container has no TTY. */
function demultiplex(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

function ignoreMissing(error: { statusCode?: number }): void {
  if (error.statusCode !== 404 && error.statusCode !== 409) throw error;
}

/** Removes containers (and then volumes) a crashed earlier run left behind. */
export async function sweepContainers(docker: Dockerode, owner?: string): Promise<number> {
  const filters = { label: [owner ? `${CONTAINER_LABEL}=${owner}` : CONTAINER_LABEL] };
  const leftovers = await docker.listContainers({ all: true, filters });
  await Promise.all(leftovers.map((info) => docker.getContainer(info.Id).remove({ force: true, v: true }).catch(ignoreMissing)));
  const { Volumes: volumes } = await docker.listVolumes({ filters });
  await Promise.all((volumes ?? []).map((volume) => docker.getVolume(volume.Name).remove().catch(ignoreMissing)));
  return leftovers.length;
}

/** A named spool volume that outlives one container, as a user's would. */
export async function createSpoolVolume(docker: Dockerode, owner: string): Promise<{ name: string; remove(): Promise<void> }> {
  const volume = await docker.createVolume({ Name: `gmail-relay-test-${owner}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, Labels: { [CONTAINER_LABEL]: owner } });
  const name = (volume as unknown as { name?: string; Name?: string }).name ?? (volume as unknown as { Name: string }).Name;
  return { name, remove: () => docker.getVolume(name).remove().catch(ignoreMissing) };
}

/** Polls until the listener greets with 220; returns the milliseconds it took. */
export async function waitForBanner(host: string, port: number, timeoutMs: number, isAlive?: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await readsBanner(host, port)) return Date.now() - started;
    if (isAlive && !(await isAlive())) throw new Error(`the relay exited before ${host}:${port} answered`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no 220 banner on ${host}:${port} within ${timeoutMs} ms`);
}

function readsBanner(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('data', (chunk) => {
      if (chunk.toString('latin1').startsWith('220')) socket.write('QUIT\r\n');
      done(chunk.toString('latin1').startsWith('220'));
    });
    socket.once('error', () => done(false));
  });
}
