import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runRelayToExit } from '../../image/smoke/relay-container.js';
import { startRelay, startUpstream, TEST_USER, type RelayUnderTest, type Upstream, type UpstreamOptions } from '../../image/smoke/relay-fixture.js';
import { bodyOf, makeTestMessage, sendMail } from '../../image/smoke/send-mail.js';

const docker = new Docker();
const image = inject('image');
const owner = 'e2e-configuration';

/** Starts a fake upstream and a relay pointed at it, relays one message, and returns what arrived. */
async function relayOnce(upstreamOptions: UpstreamOptions, env: Record<string, string | undefined>, binds: string[] = []) {
  // Returns once Postfix has logged the delivery, so the log can be asserted on too.
  const upstream = await startUpstream(upstreamOptions);
  try {
    const { relay, port } = await startRelay(docker, image, upstream, env, { owner, binds });
    try {
      const message = makeTestMessage('app@example.com', 'someone@example.org', randomUUID());
      await sendMail(port, message);
      const [received] = await upstream.fake.waitForMessages(1, 30_000).catch(async (error: Error) => {
        throw new Error(`${error.message}\n${await relay.logs()}`);
      });
      return { received: received!, sent: message, logs: await relay.waitForLog(/status=sent/) };
    } finally {
      await relay.remove();
    }
  } finally {
    await upstream.close();
  }
}

describe('passwords reach the relay byte for byte', () => {
  const passwords: Record<string, string> = {
    'colon, hash, dollar, at': 'a:b#c$d@e',
    'quotes and backslash': `q"u'o\\te\``,
    'spaces inside': 'pass word with spaces',
    'non-ASCII': 'pässwörd-日本-€',
    'starting with a hash': '#not-a-comment',
    'shell and Postfix syntax': '${HOME} $relayhost %s ;|&',
  };
  it.each(Object.entries(passwords))('%s', async (_kind, password) => {
    const { received } = await relayOnce({ credentials: { user: TEST_USER, pass: password } }, { GMAIL_PASS: password });
    expect(received.authUser).toBe(TEST_USER);
    expect(received.authPass).toBe(password);
  });

  it("drops the spaces of Google's display form of an app password", async () => {
    const { received } = await relayOnce({ credentials: { user: TEST_USER, pass: 'abcdefghijklmnop' } }, { GMAIL_PASS: 'abcd efgh ijkl mnop' });
    expect(received.authPass).toBe('abcdefghijklmnop');
  });
});

describe('secrets from files (Docker and Kubernetes secrets)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gmail-relay-secrets-'));
    await chmod(dir, 0o755);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('reads GMAIL_USER_FILE and GMAIL_PASS_FILE, without their trailing newline', async () => {
    await writeFile(join(dir, 'user'), `${TEST_USER}\n`, { mode: 0o644 });
    await writeFile(join(dir, 'pass'), 'file:pass word\n', { mode: 0o644 });
    const { received } = await relayOnce(
      { credentials: { user: TEST_USER, pass: 'file:pass word' } },
      { GMAIL_USER: undefined, GMAIL_PASS: undefined, GMAIL_USER_FILE: '/run/secrets/gmail/user', GMAIL_PASS_FILE: '/run/secrets/gmail/pass' },
      [`${dir}:/run/secrets/gmail:ro`],
    );
    expect(received.authUser).toBe(TEST_USER);
    expect(received.authPass).toBe('file:pass word');
  });
});

describe('other relays', () => {
  it('speaks TLS from the first byte on port 465', async () => {
    const { received, logs } = await relayOnce({ mode: 'implicit-tls' }, { RELAY_PORT: '465' });
    expect(received.secure).toBe(true);
    expect(received.authUser).toBe(TEST_USER);
    expect(logs).toMatch(/relay=smtp\.gmail\.com\[[\d.]+\]:465, .*status=sent/);
  });

  it('relays without AUTH to an IP-authorised smarthost, still over verified TLS', async () => {
    const { received, logs } = await relayOnce(
      { hostnames: ['smarthost.example.net'], credentials: undefined },
      { GMAIL_USER: undefined, GMAIL_PASS: undefined, RELAY_HOST: 'smarthost.example.net' },
    );
    expect(received.secure).toBe(true);
    expect(received.authUser).toBeUndefined();
    expect(logs).toMatch(/auth=none/);
  });

  it('uses RELAY_USER and RELAY_PASS for another smarthost', async () => {
    const { received } = await relayOnce(
      { hostnames: ['smtp.example.net'], credentials: { user: 'relay-login', pass: 'relay:secret' } },
      { GMAIL_USER: undefined, GMAIL_PASS: undefined, RELAY_HOST: 'smtp.example.net', RELAY_USER: 'relay-login', RELAY_PASS: 'relay:secret' },
    );
    expect(received.authUser).toBe('relay-login');
    expect(received.authPass).toBe('relay:secret');
  });

  it("sends mail for the relay's own name to the relay too: nothing is delivered locally", async () => {
    const upstream = await startUpstream();
    try {
      const { relay, port } = await startRelay(docker, image, upstream, { MAIL_HOSTNAME: 'relay.example.test' }, { owner });
      try {
        await sendMail(port, makeTestMessage('app@example.com', 'root@relay.example.test', randomUUID()));
        const [received] = await upstream.fake.waitForMessages(1, 30_000);
        expect(received?.envelopeTo).toEqual(['root@relay.example.test']);
        expect(await relay.logs()).toMatch(/hostname=relay\.example\.test/);
      } finally {
        await relay.remove();
      }
    } finally {
      await upstream.close();
    }
  });

  it('rewrites the envelope sender and From header to the login with REWRITE_SENDER=yes', async () => {
    const { received } = await relayOnce({}, { REWRITE_SENDER: 'yes' });
    expect(received.envelopeFrom).toBe(TEST_USER);
    expect(received.headers).toMatch(new RegExp(`^From: <?${TEST_USER.replace('.', '\\.')}>?`, 'mi'));
    expect(bodyOf(received.raw).length).toBeGreaterThan(0);
  });
});

describe('who may relay, and what', () => {
  let upstream: Upstream;
  let relay: RelayUnderTest;
  beforeAll(async () => {
    upstream = await startUpstream();
    relay = await startRelay(
      docker,
      image,
      upstream,
      {
        ALLOWED_NETWORKS: '127.0.0.1/32',
        ALLOWED_SENDER_DOMAINS: 'example.com',
        MESSAGE_SIZE_LIMIT: '100000',
        POSTFIX_smtpd_banner: '$myhostname ESMTP relay-under-test',
        // Kubernetes injects these for a Service named "postfix"; they must not stop the start.
        POSTFIX_SERVICE_HOST: '10.0.0.10',
        POSTFIX_PORT_25_TCP: 'tcp://10.0.0.10:25',
      },
      { owner },
    );
  });
  afterAll(async () => {
    await relay?.relay.remove();
    await upstream?.close();
  });

  const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: { responseCode?: number; response?: string }) => error);

  it('logs the effective networks at start and applies POSTFIX_* overrides', async () => {
    expect(await relay.relay.logs()).toMatch(/allowed_networks=127\.0\.0\.1\/32/);
    const banner = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: relay.port });
      socket.once('data', (chunk: Buffer) => {
        socket.end('QUIT\r\n');
        resolve(chunk.toString());
      });
      socket.once('error', reject);
    });
    expect(banner).toMatch(/^220 .* ESMTP relay-under-test/);
  });

  it('relays for an allowed client and sender', async () => {
    await sendMail(relay.port, makeTestMessage('app@example.com', 'someone@example.org', randomUUID()));
    await upstream.fake.waitForMessages(1, 30_000);
  });

  it('refuses a client from outside ALLOWED_NETWORKS with a 5xx at RCPT', async () => {
    const error = await refusal(sendMail(relay.port, makeTestMessage('app@example.com', 'someone@example.org', randomUUID()), '127.0.0.1', '127.0.0.2'));
    expect(error?.responseCode).toBeGreaterThanOrEqual(500);
    expect(error?.response).toMatch(/this client is not in ALLOWED_NETWORKS/);
  });

  it('refuses a sender outside ALLOWED_SENDER_DOMAINS', async () => {
    const error = await refusal(sendMail(relay.port, makeTestMessage('app@other.org', 'someone@example.org', randomUUID())));
    expect(error?.responseCode).toBeGreaterThanOrEqual(500);
    expect(error?.response).toMatch(/Sender address rejected/);
  });

  it('refuses a message over MESSAGE_SIZE_LIMIT while the client is connected', async () => {
    const big = makeTestMessage('app@example.com', 'someone@example.org', randomUUID(), 3_000);
    expect(big.raw.length).toBeGreaterThan(100_000);
    const error = await refusal(sendMail(relay.port, big));
    expect(error?.responseCode).toBe(552);
    const arrived = upstream.fake.messages.filter((message) => message.raw.length > 100_000);
    expect(arrived).toEqual([]);
  });
});

describe('print-config', () => {
  it('prints the settings it would apply, password masked, and exits 0', async () => {
    const { exitCode, output } = await runRelayToExit(docker, {
      image,
      cmd: ['print-config'],
      env: { GMAIL_USER: TEST_USER, GMAIL_PASS: 'Very$ecret:pass', ALLOWED_SENDER_DOMAINS: 'example.com', POSTFIX_smtp_tls_loglevel: '2' },
      owner,
    });
    expect(exitCode).toBe(0);
    expect(output).toContain('relayhost = [smtp.gmail.com]:587');
    expect(output).toContain('smtp_tls_security_level = secure');
    expect(output).toContain('smtp_tls_loglevel = 2');
    expect(output).toContain(`[smtp.gmail.com]:587 ${TEST_USER}:********`);
    expect(output).not.toContain('Very$ecret');
  });

  it('warns about a value wrapped in quotes, naming the variable', async () => {
    const { exitCode, output } = await runRelayToExit(docker, {
      image,
      cmd: ['print-config'],
      env: { GMAIL_USER: TEST_USER, GMAIL_PASS: '"quoted-secret"' },
      owner,
    });
    expect(exitCode).toBe(0);
    expect(output).toMatch(/GMAIL_PASS: its value is wrapped in quote characters/);
    expect(output).not.toContain('quoted-secret');
  });

  it('exits 2 with the same errors as a start', async () => {
    const { exitCode, output } = await runRelayToExit(docker, { image, cmd: ['print-config'], env: { GMAIL_USER: TEST_USER, SMTP_PORT: 'x' }, owner });
    expect(exitCode).toBe(2);
    expect(output).toContain('GMAIL_PASS: is required');
    expect(output).toContain('SMTP_PORT: must be a port number');
  });
});
