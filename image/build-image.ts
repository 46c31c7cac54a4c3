import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type Dockerode from 'dockerode';

export type BuildEvent =
  | { kind: 'step'; text: string }
  | { kind: 'cache'; text: string }
  | { kind: 'output'; text: string }
  | { kind: 'status'; text: string };

export interface BuildResult {
  imageId: string;
  stepsCached: number;
  stepsRun: number;
}

export class BuildError extends Error {
  readonly code = 'BUILD_FAILED';
  /** The daemon's error text, e.g. "The command '/bin/sh -c exit 3' returned a non-zero code: 3". */
  readonly detail: string;
  /** The last "Step n/m : ..." line seen before the failure, when known. */
  readonly step: string | undefined;

  constructor(detail: string, step?: string, options?: ErrorOptions) {
    super(step ? `docker build failed at "${step}": ${detail}` : `docker build failed: ${detail}`, options);
    this.name = 'BuildError';
    this.detail = detail;
    this.step = step;
  }
}

interface BuildMessage {
  stream?: unknown;
  status?: unknown;
  aux?: { ID?: unknown };
  error?: unknown;
  errorDetail?: { message?: unknown };
}

const STEP = /^Step \d+\/\d+ : (\S+)/;
const USING_CACHE = /^---> Using cache$/;
const SUCCESSFULLY_BUILT = /^Successfully built ([0-9a-f]+)$/;

export function parseBuildStream(stream: NodeJS.ReadableStream, onEvent: (e: BuildEvent) => void): Promise<BuildResult> {
  return new Promise((resolve, reject) => {
    // A chunk can end inside a JSON line or inside a multi-byte character.
    const decoder = new StringDecoder('utf8');
    let pending = '';
    let imageId: string | undefined;
    let builtId: string | undefined;
    let lastStep: string | undefined;
    let stepsCached = 0;
    let stepsCounted = 0;
    let failed = false;

    const fail = (error: BuildError): void => {
      failed = true;
      reject(error);
    };

    const handleText = (text: string): void => {
      for (const raw of text.split(/\r?\n/)) {
        const line = raw.trim();
        if (line === '') continue;
        const step = STEP.exec(line);
        if (step) {
          lastStep = line;
          // FROM starts a stage; it can neither be cached nor "run" like the other steps.
          if (step[1]?.toUpperCase() !== 'FROM') stepsCounted++;
          onEvent({ kind: 'step', text: line });
        } else if (USING_CACHE.test(line)) {
          stepsCached++;
          onEvent({ kind: 'cache', text: line });
        } else {
          builtId = SUCCESSFULLY_BUILT.exec(line)?.[1] ?? builtId;
          onEvent({ kind: 'output', text: line });
        }
      }
    };

    const handleLine = (line: string): void => {
      if (failed || line.trim() === '') return;
      let message: BuildMessage;
      try {
        message = JSON.parse(line) as BuildMessage;
      } catch {
        return fail(new BuildError(`unreadable build output: ${line.slice(0, 200)}`, lastStep));
      }
      if (message.error !== undefined || message.errorDetail !== undefined) {
        const text = message.errorDetail?.message ?? message.error;
        return fail(new BuildError(typeof text === 'string' ? text : JSON.stringify(text), lastStep));
      }
      if (typeof message.aux?.ID === 'string') imageId = message.aux.ID;
      if (typeof message.stream === 'string') handleText(message.stream);
      if (typeof message.status === 'string') onEvent({ kind: 'status', text: message.status });
    };

    stream.on('data', (chunk: Buffer | string) => {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(handleLine);
    });
    stream.on('end', () => {
      handleLine(pending + decoder.end());
      if (failed) return;
      const id = imageId ?? builtId;
      if (id === undefined) return fail(new BuildError('build output ended without an image id', lastStep));
      resolve({ imageId: id, stepsCached, stepsRun: Math.max(0, stepsCounted - stepsCached) });
    });
    stream.on('error', (error: Error) => {
      if (!failed) fail(new BuildError(`build output stream failed: ${error.message}`, lastStep, { cause: error }));
    });
  });
}

export async function buildImage(
  docker: Dockerode,
  context: Buffer,
  options: { tag: string; onEvent?: (e: BuildEvent) => void },
): Promise<BuildResult> {
  let stream: NodeJS.ReadableStream;
  try {
    // Host networking: the engine here runs with --bridge=none, so RUN steps have no other network.
    stream = await docker.buildImage(Readable.from([context]), {
      t: options.tag,
      networkmode: 'host',
      rm: true,
      forcerm: true,
    });
  } catch (error) {
    // A status code means the daemon refused the build itself (e.g. a Dockerfile parse error).
    if (error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === 'number') {
      throw new BuildError(error.message, undefined, { cause: error });
    }
    throw error;
  }
  return parseBuildStream(stream, options.onEvent ?? (() => {}));
}
