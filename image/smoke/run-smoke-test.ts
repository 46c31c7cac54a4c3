import { randomUUID } from 'node:crypto';
import type Dockerode from 'dockerode';
import { startRelay, startUpstream, TEST_PASS, TEST_USER } from './relay-fixture.js';
import { bodyOf, makeTestMessage, sendMail } from './send-mail.js';

export interface SmokeResult {
  readonly readyMs: number;
  readonly deliveryMs: number;
  readonly authUser: string;
}

/** Relays one real message through the image to a fake Gmail and checks what arrived. Always cleans up. */
export async function runSmokeTest(docker: Dockerode, image: string): Promise<SmokeResult> {
  const upstream = await startUpstream();
  try {
    const { relay, port, readyMs } = await startRelay(docker, image, upstream);
    try {
      const message = makeTestMessage('app@example.com', 'someone@example.org', randomUUID());
      const sent = Date.now();
      await sendMail(port, message);
      const [received] = await upstream.fake.waitForMessages(1, 30_000).catch(async (error: Error) => {
        throw new Error(`${error.message}\ncontainer log:\n${await relay.logs()}`);
      });
      const deliveryMs = Date.now() - sent;
      if (!received) throw new Error('no message arrived');
      const problems = [
        !received.secure && 'the message did not arrive over TLS',
        received.authUser !== TEST_USER && `authenticated as ${received.authUser ?? 'nobody'}, expected ${TEST_USER}`,
        received.authPass !== TEST_PASS && 'the password that arrived differs from GMAIL_PASS',
        !bodyOf(received.raw).equals(bodyOf(message.raw)) && 'the body that arrived differs from the body sent',
      ].filter((problem): problem is string => typeof problem === 'string');
      if (problems.length > 0) throw new Error(`smoke test failed: ${problems.join('; ')}`);
      return { readyMs, deliveryMs, authUser: received.authUser ?? '' };
    } finally {
      await relay.remove();
    }
  } finally {
    await upstream.close();
  }
}
