import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { startRelay, startUpstream } from '../smoke/relay-fixture.js';
import { makeTestMessage, sendMail } from '../smoke/send-mail.js';

export interface RateResult {
  readonly setting: number;
  readonly messages: number;
  readonly achievedPerMinute: number;
  readonly deviationPercent: number;
  readonly exactlyOnce: boolean;
  readonly logins: number;
}

/** Sends a small burst to a relay with RATE_LIMIT set and measures the pace at which it reaches the fake. */
export async function measureRateLimit(docker: Docker, image: string, perMinute: number, messages = 16): Promise<RateResult> {
  const upstream = await startUpstream();
  try {
    const { relay, port } = await startRelay(docker, image, upstream, { RATE_LIMIT: String(perMinute), PREFLIGHT: 'off' }, { owner: 'bench' });
    try {
      const ids = Array.from({ length: messages }, () => randomUUID());
      for (const id of ids) await sendMail(port, makeTestMessage('app@example.com', 'someone@example.org', id));
      const arrived = await upstream.fake.waitForMessages(messages, (messages * 60_000) / perMinute + 60_000);
      const times = arrived.map((message) => message.receivedAt).sort((a, b) => a - b);
      // Pace between the first and the last arrival: n - 1 intervals.
      const achievedPerMinute = ((messages - 1) * 60_000) / (times.at(-1)! - times[0]!);
      const received = new Set(upstream.fake.messages.map((message) => /Message-ID: <([^@]+)@/.exec(message.headers)?.[1]));
      return {
        setting: perMinute,
        messages,
        achievedPerMinute,
        deviationPercent: (Math.abs(achievedPerMinute - perMinute) / perMinute) * 100,
        exactlyOnce: upstream.fake.messages.length === messages && ids.every((id) => received.has(id)),
        logins: upstream.fake.stats.logins,
      };
    } finally {
      await relay.remove();
    }
  } finally {
    await upstream.close();
  }
}
