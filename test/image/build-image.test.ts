import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BuildError, parseBuildStream } from '../../image/build-image.js';
import type { BuildEvent } from '../../image/build-image.js';

const line = (message: object): string => `${JSON.stringify(message)}\n`;

function feed(chunks: readonly string[]): PassThrough {
  const stream = new PassThrough();
  // Write after the parser has attached its listeners, as the daemon's socket would.
  setImmediate(() => {
    for (const chunk of chunks) stream.write(chunk);
    stream.end();
  });
  return stream;
}

async function parse(chunks: readonly string[]): Promise<{ result: Promise<unknown>; events: BuildEvent[] }> {
  const events: BuildEvent[] = [];
  const result = parseBuildStream(feed(chunks), (e) => events.push(e));
  await result.catch(() => {});
  return { result, events };
}

const id = 'sha256:' + 'ab'.repeat(32);

describe('parseBuildStream', () => {
  it('resolves with the aux image id and counts cached and run steps', async () => {
    const { result, events } = await parse([
      line({ stream: 'Step 1/3 : FROM debian:trixie-slim\n' }),
      line({ stream: ' ---> 1234567890ab\n' }),
      line({ stream: 'Step 2/3 : RUN apt-get update\n' }),
      line({ stream: ' ---> Using cache\n' }),
      line({ stream: 'Step 3/3 : COPY . /app\n' }) + line({ stream: ' ---> Running in 0123\n' }),
      line({ status: 'Downloading' }),
      line({ aux: { ID: id } }),
      line({ stream: 'Successfully built abababababab\n' }),
    ]);
    await expect(result).resolves.toEqual({ imageId: id, stepsCached: 1, stepsRun: 1 });
    expect(events.filter((e) => e.kind === 'step').map((e) => e.text)).toEqual([
      'Step 1/3 : FROM debian:trixie-slim',
      'Step 2/3 : RUN apt-get update',
      'Step 3/3 : COPY . /app',
    ]);
    expect(events).toContainEqual({ kind: 'cache', text: '---> Using cache' });
    expect(events).toContainEqual({ kind: 'status', text: 'Downloading' });
  });

  it('falls back to "Successfully built" when there is no aux id', async () => {
    const { result } = await parse([
      line({ stream: 'Step 1/1 : FROM debian\n' }),
      line({ stream: 'Successfully built 0123456789ab\n' }),
      line({ stream: 'Successfully tagged gmail-relay:dev\n' }),
    ]);
    await expect(result).resolves.toEqual({ imageId: '0123456789ab', stepsCached: 0, stepsRun: 0 });
  });

  it('rejects with the daemon error text and the failing step', async () => {
    const message = "The command '/bin/sh -c exit 3' returned a non-zero code: 3";
    const { result } = await parse([
      line({ stream: 'Step 2/6 : RUN exit 3\n' }),
      line({ stream: ' ---> Running in 5f1c\n' }),
      line({ errorDetail: { code: 3, message }, error: message }),
    ]);
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect(error).toMatchObject({ code: 'BUILD_FAILED', detail: message, step: 'Step 2/6 : RUN exit 3' });
    expect((error as BuildError).message).toContain(message);
  });

  it('joins a JSON line split across chunks', async () => {
    const whole = line({ aux: { ID: id } });
    const { result } = await parse([whole.slice(0, 10), whole.slice(10)]);
    await expect(result).resolves.toMatchObject({ imageId: id });
  });

  it('rejects when the stream ends without an image id', async () => {
    const { result } = await parse([]);
    await expect(result).rejects.toThrow(BuildError);
    await expect(result).rejects.toThrow(/without an image id/);
  });

  it('rejects when the stream itself fails', async () => {
    const stream = new PassThrough();
    const result = parseBuildStream(stream, () => {});
    stream.destroy(new Error('socket hang up'));
    await expect(result).rejects.toThrow(/socket hang up/);
  });
});
