import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRelay, startUpstream, TEST_PASS, TEST_USER, type RelayUnderTest, type Upstream } from '../../image/smoke/relay-fixture.js';
import { bodyOf, makeTestMessage, sendMail } from '../../image/smoke/send-mail.js';
import { createTestCa, type TestCa } from '../../image/smoke/test-ca.js';
import { randomLoopbackAddress } from '../../image/smoke/free-port.js';
import { startFakeGmail } from '../../image/smoke/fake-gmail.js';
import { runSmokeTest } from '../../image/smoke/run-smoke-test.js';
import { runRelayToExit } from '../../image/smoke/relay-container.js';

const docker = new Docker();
const image = inject('image');
const owner = 'e2e-relay';

describe('relaying through the real image to a fake Gmail', () => {
  let upstream: Upstream;
  let relay: RelayUnderTest;

  beforeAll(async () => {
    upstream = await startUpstream();
    relay = await startRelay(docker, image, upstream, {}, { owner });
  });
  afterAll(async () => {
    await relay?.relay.remove();
    await upstream?.close();
  });

  it('delivers the body byte for byte, over TLS, authenticated with the exact password', async () => {
    const message = makeTestMessage('app@example.com', 'someone@example.org', randomUUID(), 200);
    await sendMail(relay.port, message);
    const [received] = await upstream.fake.waitForMessages(1, 30_000);
    expect(received?.secure).toBe(true);
    expect(received?.authUser).toBe(TEST_USER);
    expect(received?.authPass).toBe(TEST_PASS);
    expect(received?.envelopeFrom).toBe('app@example.com');
    expect(received?.envelopeTo).toEqual(['someone@example.org']);
    expect(bodyOf(received!.raw).equals(bodyOf(message.raw))).toBe(true);
    expect(upstream.fake.stats.authBeforeTls).toBe(0);
  });

  it("shows Postfix's own log lines on stdout, with no warnings at start", async () => {
    const logs = await relay.relay.waitForLog(/status=sent/);
    expect(logs).toMatch(/postfix\/master\[\d+\]: daemon started/);
    expect(logs).toMatch(/postfix\/smtp\[\d+\]: \w+: to=<someone@example.org>, relay=smtp.gmail.com\[[\d.]+\]:587, .*status=sent/);
    expect(logs).not.toMatch(/warning:/i);
    expect(logs).not.toContain(TEST_PASS);
  });

  it('stops cleanly on SIGTERM with exit code 0 within a few seconds', async () => {
    const started = Date.now();
    await relay.relay.container.stop({ t: 10 });
    const seconds = (Date.now() - started) / 1000;
    const state = (await relay.relay.container.inspect()).State;
    expect(state.ExitCode).toBe(0);
    expect(seconds).toBeLessThan(5);
    expect(await relay.relay.logs()).toMatch(/stopping the Postfix mail system/);
  });
});

describe('supervision', () => {
  it('names a taken SMTP_PORT instead of letting Postfix exit without a reason', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const { exitCode, output } = await runRelayToExit(docker, {
        image,
        owner,
        env: { GMAIL_USER: TEST_USER, GMAIL_PASS: TEST_PASS, SMTP_BIND: '127.0.0.1', SMTP_PORT: String(port), PREFLIGHT: 'off' },
      });
      expect(exitCode).toBe(1);
      expect(output).toContain(`SMTP_PORT=${port}: 127.0.0.1:${port} is already in use`);
      expect(output).not.toMatch(/daemon started/);
    } finally {
      taken.close();
    }
  });

  it('exits non-zero when Postfix dies', async () => {
    const upstream = await startUpstream();
    const { relay } = await startRelay(docker, image, upstream, {}, { owner });
    try {
      const exec = await relay.container.exec({ Cmd: ['sh', '-c', 'kill -9 $(cat /var/spool/postfix/pid/master.pid)'] });
      await exec.start({});
      const exitCode = await relay.wait();
      expect(exitCode).toBe(1);
      expect(await relay.logs()).toMatch(/postfix exited unexpectedly/);
    } finally {
      await relay.remove();
      await upstream.close();
    }
  });
});

describe('TLS to the relay is verified', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gmail-relay-tls-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The relay trusts `trusted`; the fake Gmail presents `presented`'s leaf. Nothing may arrive. */
  async function expectRefused(trusted: TestCa, presented: TestCa, logPattern: RegExp): Promise<void> {
    const address = randomLoopbackAddress();
    const fake = await startFakeGmail({ host: address, port: 587, key: presented.keyPem, cert: presented.certPem, credentials: { user: TEST_USER, pass: TEST_PASS } });
    const { relay, port } = await startRelay(docker, image, { address, hostname: 'smtp.gmail.com', ca: trusted, fake, close: () => fake.close() }, {}, { owner });
    try {
      await sendMail(port, makeTestMessage('app@example.com', 'someone@example.org', randomUUID()));
      await expect(fake.waitForMessages(1, 6_000)).rejects.toThrow();
      expect(fake.stats.tlsHandshakes).toBeGreaterThan(0);
      expect(fake.stats.logins + fake.stats.failedLogins + fake.stats.authBeforeTls).toBe(0);
      expect(await relay.logs()).toMatch(logPattern);
    } finally {
      await relay.remove();
      await fake.close();
    }
  }

  it('refuses a certificate from an untrusted CA and never sends the password', async () => {
    const trusted = await createTestCa(join(dir, 'trusted'), ['smtp.gmail.com']);
    const untrusted = await createTestCa(join(dir, 'untrusted'), ['smtp.gmail.com']);
    await expectRefused(trusted, untrusted, /certificate verification failed|untrusted issuer/i);
  });

  it('refuses a trusted certificate issued for another host name', async () => {
    const otherName = await createTestCa(join(dir, 'other-name'), ['mail.example.net']);
    await expectRefused(otherName, otherName, /name mismatch|certificate verification failed/i);
  });
});

describe('the smoke test the builder runs', () => {
  it('passes against the image and reports its timings', async () => {
    const result = await runSmokeTest(docker, image);
    expect(result.authUser).toBe(TEST_USER);
    expect(result.readyMs).toBeGreaterThan(0);
    expect(result.deliveryMs).toBeGreaterThan(0);
  });
});
