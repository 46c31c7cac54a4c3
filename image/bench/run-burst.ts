import { randomUUID } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { FakeGmail } from '../smoke/fake-gmail.js';

export interface BurstResult {
  readonly messages: number;
  /** Seconds until the relay had accepted (250) every message. */
  readonly submitSeconds: number;
  /** Seconds from the first submission to the last arrival at the fake Gmail. */
  readonly deliverSeconds: number;
  readonly arrivedOnce: boolean;
  readonly duplicates: number;
  readonly missing: number;
}

/** A message of about `bytes` bytes whose Message-ID lets arrivals be matched to submissions. */
function burstMessage(id: string, bytes: number): Buffer {
  const line = 'The quick brown fox jumps over the lazy dog while the relay drains its queue.\r\n';
  const body = line.repeat(Math.ceil(bytes / line.length));
  return Buffer.from(`From: <reports@example.com>\r\nTo: <inbox@example.org>\r\nSubject: burst ${id}\r\nMessage-ID: <${id}@bench>\r\n\r\n${body}`);
}

export function messageIdOf(headers: string): string | undefined {
  return /Message-ID: <([^@>]+)@bench>/i.exec(headers)?.[1];
}

/** Submits `count` messages over `clients` concurrent SMTP connections and waits for all to arrive. */
export async function runBurst(port: number, fake: FakeGmail, options: { count: number; bytes: number; clients: number }): Promise<BurstResult> {
  const ids = Array.from({ length: options.count }, () => randomUUID());
  const transport = createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: options.clients, maxMessages: Infinity });
  const started = Date.now();
  try {
    let next = 0;
    // Each client sends its share back to back, as a busy app would.
    await Promise.all(
      Array.from({ length: options.clients }, async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          await transport.sendMail({ envelope: { from: 'reports@example.com', to: ['inbox@example.org'] }, raw: burstMessage(id, options.bytes) });
        }
      }),
    );
  } finally {
    transport.close();
  }
  const submitSeconds = (Date.now() - started) / 1000;
  await fake.waitForMessages(options.count, 180_000);
  const lastArrival = Math.max(...fake.messages.map((message) => message.receivedAt));
  // Give a duplicate time to show up before counting.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const arrived = fake.messages.map((message) => messageIdOf(message.headers));
  const unique = new Set(arrived);
  const missing = ids.filter((id) => !unique.has(id)).length;
  const duplicates = arrived.length - unique.size;
  return {
    messages: options.count,
    submitSeconds,
    deliverSeconds: (lastArrival - started) / 1000,
    arrivedOnce: missing === 0 && duplicates === 0 && arrived.length === options.count,
    duplicates,
    missing,
  };
}
