import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { BuildError, buildImage, type BuildEvent } from './build-image.js';
import { packImageContext } from './image-context.js';
import { runSmokeTest } from './smoke/run-smoke-test.js';

const USAGE = `usage: npm run image -- [--tag NAME] [--no-smoke] [--dockerfile PATH]
  Builds the gmail-relay image through the Docker Engine API and smoke-tests it by relaying
  a real message to a local fake Gmail.
  --tag NAME   image tag (default gmail-relay:latest)
  --no-smoke   build only
  --dockerfile PATH  build from another Dockerfile (default: the repository's)`;

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

// Docker colours a RUN step's stderr; the escape codes are noise in a log.
const stripColours = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

function printBuildEvent(event: BuildEvent): void {
  if (event.kind === 'step') process.stdout.write(`\n${event.text}\n`);
  else if (event.text !== '') process.stdout.write(`  ${stripColours(event.text)}\n`);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        tag: { type: 'string', default: 'gmail-relay:latest' },
        'no-smoke': { type: 'boolean', default: false },
        dockerfile: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 64;
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const docker = new Docker();
  const tag = values.tag;

  const context = await packImageContext(values.dockerfile);
  process.stdout.write(`build context: ${context.length} bytes\n`);
  const buildStarted = Date.now();
  const built = await buildImage(docker, context, { tag, onEvent: printBuildEvent });
  const buildSeconds = (Date.now() - buildStarted) / 1000;
  const { Size: size } = await docker.getImage(built.imageId).inspect();

  const report: [string, string][] = [
    ['image', `${tag} ${built.imageId.replace('sha256:', '').slice(0, 12)}`],
    ['size', `${(size / 1e6).toFixed(1)} MB`],
    ['build', `${buildSeconds.toFixed(1)} s (${plural(built.stepsCached, 'step')} cached, ${built.stepsRun} run)`],
  ];
  if (!values['no-smoke']) {
    process.stdout.write('\nsmoke test: relaying a message to a local fake Gmail...\n');
    const smoke = await runSmokeTest(docker, tag);
    report.push(
      ['ready', `${(smoke.readyMs / 1000).toFixed(2)} s (container start to 220 banner)`],
      ['delivery', `${(smoke.deliveryMs / 1000).toFixed(2)} s (message sent to arrival at the fake Gmail)`],
      ['smoke', `delivered over TLS, authenticated as ${smoke.authUser}, body byte-identical`],
    );
  }
  process.stdout.write(`\n${report.map(([key, value]) => `${key.padEnd(9)} ${value}`).join('\n')}\n`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    const message = error instanceof BuildError ? error.message : ((error as Error).stack ?? String(error));
    process.stderr.write(`\nnpm run image failed: ${message}\n`);
    process.exitCode = 1;
  },
);
