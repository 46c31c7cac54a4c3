import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { buildImage } from '../build-image.js';
import { packBuildContext } from '../build-context.js';
import { imageContextFiles } from '../image-context.js';
import { repoRoot } from '../repo-root.js';
import { findFreePort } from '../smoke/free-port.js';
import { startRelay, startUpstream, TEST_PASS, TEST_USER, type Upstream } from '../smoke/relay-fixture.js';
import { startRelayContainer, sweepContainers, waitForBanner, type RelayContainer } from '../smoke/relay-container.js';
import { readContainerMemory, samplePeakMemory } from './cgroup-memory.js';
import { howtoBaselineScript } from './howto-baseline.js';
import { runBurst, type BurstResult } from './run-burst.js';
import { measureRateLimit, type RateResult } from './rate-limit.js';

const IMAGE = 'gmail-relay:bench';
const BASE_IMAGE = 'debian:trixie-slim';
const OWNER = 'bench';
const CA_IN_CONTAINER = '/run/gmail-relay-bench/ca.pem';

type Subject = 'product' | 'baseline';

interface RunFigures {
  readyMs: number;
  idleMemoryMb: number;
  peakMemoryMb: number;
  burst: BurstResult;
  upstream: { connections: number; tlsHandshakes: number; logins: number };
}

interface Started {
  relay: RelayContainer;
  port: number;
  readyMs: number;
}

async function startSubject(docker: Docker, subject: Subject, upstream: Upstream): Promise<Started> {
  if (subject === 'product') {
    const started = await startRelay(docker, IMAGE, upstream, {}, { owner: OWNER });
    return { relay: started.relay, port: started.port, readyMs: started.readyMs };
  }
  const port = await findFreePort();
  const relay = await startRelayContainer(docker, {
    image: IMAGE,
    env: {},
    entrypoint: ['/bin/sh', '-c', howtoBaselineScript({ user: TEST_USER, pass: TEST_PASS, caFileInContainer: CA_IN_CONTAINER, listenPort: port })],
    extraHosts: [`smtp.gmail.com:${upstream.address}`],
    binds: [`${upstream.ca.caFile}:${CA_IN_CONTAINER}:ro`],
    owner: OWNER,
  });
  await waitForBanner('127.0.0.1', port, 60_000);
  return { relay, port, readyMs: Date.now() - relay.startedAt };
}

async function measureOnce(docker: Docker, subject: Subject, burst: { count: number; bytes: number; clients: number }): Promise<RunFigures> {
  const upstream = await startUpstream();
  try {
    const { relay, port, readyMs } = await startSubject(docker, subject, upstream);
    try {
      // Idle: once start-up work (preflight, first queue run) has settled.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const idle = await readContainerMemory(relay.id);
      const before = { ...upstream.fake.stats };
      const sampler = samplePeakMemory(relay.id);
      const result = await runBurst(port, upstream.fake, burst).finally(async () => void (await sampler.stop()));
      const peak = await sampler.stop();
      const stats = upstream.fake.stats;
      return {
        readyMs,
        idleMemoryMb: idle / 2 ** 20,
        peakMemoryMb: Math.max(peak, idle) / 2 ** 20,
        burst: result,
        upstream: {
          connections: stats.connections - before.connections,
          tlsHandshakes: stats.tlsHandshakes - before.tlsHandshakes,
          logins: stats.logins - before.logins,
        },
      };
    } finally {
      await relay.remove();
    }
  } finally {
    await upstream.close();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function imageFigures(docker: Docker) {
  const [image, base] = await Promise.all([docker.getImage(IMAGE).inspect(), docker.getImage(BASE_IMAGE).inspect()]);
  // A one-line change in entrypoint code: bundle, pack and build again, timed end to end.
  const started = Date.now();
  const files = await imageContextFiles();
  const changed = files.map((file) => (file.path === 'entrypoint.cjs' ? { ...file, content: `${file.content.toString()}\n// bench change ${Date.now()}\n` } : file));
  const rebuilt = await buildImage(docker, await packBuildContext(changed), { tag: `${IMAGE}-rebuild` });
  const rebuildSeconds = (Date.now() - started) / 1000;
  await docker.getImage(`${IMAGE}-rebuild`).remove().catch(() => undefined);
  return {
    sizeMb: image.Size / 1e6,
    addedMb: (image.Size - base.Size) / 1e6,
    cachedRebuildSeconds: rebuildSeconds,
    rebuildStepsRun: rebuilt.stepsRun,
  };
}

export interface BenchOptions {
  readonly repetitions: number;
  readonly count: number;
  readonly bytes: number;
  readonly clients: number;
  readonly rateLimit: number;
}

interface SubjectSummary {
  readonly readySeconds: number;
  readonly submitPerSecond: number;
  readonly deliverSeconds: number;
  readonly connections: number;
  readonly tlsHandshakes: number;
  readonly logins: number;
  readonly idleMemoryMb: number;
  readonly peakMemoryMb: number;
  readonly allExactlyOnce: boolean;
}

export interface BenchResults {
  readonly date: string;
  readonly options: BenchOptions;
  readonly product: SubjectSummary;
  readonly baseline: SubjectSummary;
  readonly ratios: Readonly<Record<'ready' | 'delivery' | 'logins' | 'peakMemory', number>>;
  readonly image: Awaited<ReturnType<typeof imageFigures>>;
  readonly rateLimit: RateResult;
  readonly runs: Record<Subject, RunFigures[]>;
}

export async function runBenchmark(options: BenchOptions): Promise<BenchResults> {
  const docker = new Docker();
  await sweepContainers(docker, OWNER);
  process.stdout.write(`building ${IMAGE}...\n`);
  await buildImage(docker, await packBuildContext(await imageContextFiles()), { tag: IMAGE });
  const image = await imageFigures(docker);

  const runs: Record<Subject, RunFigures[]> = { product: [], baseline: [] };
  for (let repetition = 1; repetition <= options.repetitions; repetition++) {
    // Alternate the order so drift on a shared machine hits both alike.
    const order: Subject[] = repetition % 2 ? ['product', 'baseline'] : ['baseline', 'product'];
    for (const subject of order) {
      const figures = await measureOnce(docker, subject, options);
      runs[subject].push(figures);
      process.stdout.write(
        `  run ${repetition} ${subject.padEnd(8)} ready ${(figures.readyMs / 1000).toFixed(2)} s, burst delivered in ${figures.burst.deliverSeconds.toFixed(2)} s, ` +
          `${figures.upstream.logins} logins, peak ${figures.peakMemoryMb.toFixed(0)} MB${figures.burst.arrivedOnce ? '' : ` — NOT exactly once (${figures.burst.missing} missing, ${figures.burst.duplicates} duplicates)`}\n`,
      );
    }
  }

  const rate = await measureRateLimit(docker, IMAGE, options.rateLimit);
  const summary = (subject: Subject): SubjectSummary => {
    const of = (pick: (figures: RunFigures) => number) => median(runs[subject].map(pick));
    return {
      readySeconds: of((f) => f.readyMs / 1000),
      submitPerSecond: of((f) => f.burst.messages / f.burst.submitSeconds),
      deliverSeconds: of((f) => f.burst.deliverSeconds),
      connections: of((f) => f.upstream.connections),
      tlsHandshakes: of((f) => f.upstream.tlsHandshakes),
      logins: of((f) => f.upstream.logins),
      idleMemoryMb: of((f) => f.idleMemoryMb),
      peakMemoryMb: of((f) => f.peakMemoryMb),
      allExactlyOnce: runs[subject].every((f) => f.burst.arrivedOnce),
    };
  };
  const product = summary('product');
  const baseline = summary('baseline');
  const results: BenchResults = {
    date: new Date().toISOString(),
    options,
    product,
    baseline,
    ratios: {
      ready: baseline.readySeconds / product.readySeconds,
      delivery: baseline.deliverSeconds / product.deliverSeconds,
      logins: baseline.logins / Math.max(product.logins, 1),
      peakMemory: baseline.peakMemoryMb / product.peakMemoryMb,
    },
    image,
    rateLimit: rate,
    runs,
  };
  const dir = join(repoRoot(), 'bench', 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${formatTable(results)}\nfigures written to bench/results/latest.json\n`);
  return results;
}

function formatTable(results: BenchResults): string {
  const { product: p, baseline: b, image, rateLimit: rate, options } = results;
  const rows: [string, string, string, string][] = [
    ['start → 220 banner (s)', p.readySeconds.toFixed(2), b.readySeconds.toFixed(2), `${(b.readySeconds / p.readySeconds).toFixed(1)}× faster`],
    ['submission rate (msg/s)', p.submitPerSecond.toFixed(0), b.submitPerSecond.toFixed(0), `${(p.submitPerSecond / b.submitPerSecond).toFixed(1)}×`],
    ['burst to last delivery (s)', p.deliverSeconds.toFixed(2), b.deliverSeconds.toFixed(2), `${(b.deliverSeconds / p.deliverSeconds).toFixed(1)}× faster`],
    ['upstream connections', String(p.connections), String(b.connections), ''],
    ['upstream TLS handshakes', String(p.tlsHandshakes), String(b.tlsHandshakes), ''],
    ['upstream logins', String(p.logins), String(b.logins), `${(b.logins / Math.max(p.logins, 1)).toFixed(0)}× fewer`],
    ['every message exactly once', p.allExactlyOnce ? 'yes' : 'NO', b.allExactlyOnce ? 'yes' : 'NO', ''],
    ['memory idle (MB)', p.idleMemoryMb.toFixed(1), b.idleMemoryMb.toFixed(1), ''],
    ['memory peak in burst (MB)', p.peakMemoryMb.toFixed(1), b.peakMemoryMb.toFixed(1), ''],
  ];
  const header: [string, string, string, string] = ['figure (median)', 'gmail-relay', 'how-to', 'ratio'];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...[header, ...rows].map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    `${options.count} messages of ${options.bytes / 1000} KB over ${options.clients} connections, median of ${options.repetitions} runs each, alternating`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `image: ${image.sizeMb.toFixed(1)} MB, ${image.addedMb.toFixed(1)} MB over ${BASE_IMAGE}; cached rebuild after a one-line entrypoint change ${image.cachedRebuildSeconds.toFixed(1)} s`,
    `RATE_LIMIT=${rate.setting}/min: ${rate.messages} messages delivered at ${rate.achievedPerMinute.toFixed(1)}/min (${rate.deviationPercent.toFixed(1)} % off), ${rate.logins} login(s), all exactly once: ${rate.exactlyOnce ? 'yes' : 'NO'}`,
  ].join('\n');
}

export type { RateResult };
