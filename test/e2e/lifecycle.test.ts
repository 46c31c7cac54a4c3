import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeGmail } from '../../image/smoke/fake-gmail.js';
import { findFreePort } from '../../image/smoke/free-port.js';
import { createSpoolVolume, runRelayToExit } from '../../image/smoke/relay-container.js';
import { startRelay, startUpstream, TEST_PASS, TEST_USER, type Upstream } from '../../image/smoke/relay-fixture.js';
import { makeTestMessage, sendMail } from '../../image/smoke/send-mail.js';

const docker = new Docker();
const image = inject('image');
const owner = 'e2e-lifecycle';
/** Fast retries so "the relay is back" is seen within seconds. */
const FAST_RETRY = { QUEUE_RETRY: '1' };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  // Last in, first out: containers before the volumes and upstreams they use.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function upstream(options: Parameters<typeof startUpstream>[0] = {}): Promise<Upstream> {
  const started = await startUpstream(options);
  cleanups.push(() => started.close());
  return started;
}

async function relayOn(up: Upstream, env: Record<string, string | undefined> = {}, binds: string[] = []) {
  const started = await startRelay(docker, image, up, { ...FAST_RETRY, ...env }, { owner, binds });
  cleanups.push(() => started.relay.remove());
  return started;
}

async function spoolVolume(): Promise<string> {
  const volume = await createSpoolVolume(docker, owner);
  cleanups.push(() => volume.remove());
  return volume.name;
}

const message = (id = randomUUID()) => makeTestMessage('app@example.com', 'someone@example.org', id);
const idsOf = (fake: FakeGmail) => fake.messages.map((received) => /Message-ID: <([^@]+)@/.exec(received.headers)?.[1]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a command in the container and returns its standard output (short outputs: one frame each). */
async function execOutput(container: Docker.Container, cmd: string[]): Promise<string> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true });
  const stream = await exec.start({});
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.subarray(8).toString()));
  await new Promise((resolve) => stream.on('end', resolve));
  return text;
}

async function stopTimed(container: Docker.Container, graceSeconds = 10): Promise<{ seconds: number; exitCode: number }> {
  const started = Date.now();
  await container.stop({ t: graceSeconds });
  const seconds = (Date.now() - started) / 1000;
  return { seconds, exitCode: (await container.inspect()).State.ExitCode };
}

describe('queued mail is never lost', () => {
  it('survives docker stop while the relay is down, and a new container delivers it exactly once', async () => {
    const up = await upstream();
    await up.fake.close();
    const volume = await spoolVolume();
    // Default SHUTDOWN_GRACE (8 s) and QUEUE_RETRY (60 s): with the relay down there is nothing to wait
    // for once the flush has been tried, and the next container retries at start, not 60 s later.
    const first = await relayOn(up, { QUEUE_RETRY: '60' }, [`${volume}:/var/spool/postfix`]);
    const ids = [randomUUID(), randomUUID()];
    for (const id of ids) await sendMail(first.port, message(id));
    await first.relay.waitForLog(/status=deferred/);

    const stopped = await stopTimed(first.relay.container);
    expect(stopped.exitCode).toBe(0);
    expect(stopped.seconds).toBeLessThan(4);
    expect(await first.relay.logs()).toMatch(/2 message\(s\) stay queued in the spool for the next start/);

    const fake = await up.restart!();
    const second = await relayOn(up, { QUEUE_RETRY: '60' }, [`${volume}:/var/spool/postfix`]);
    await fake.waitForMessages(2, 15_000);
    await sleep(3_000);
    expect(idsOf(fake).sort()).toEqual([...ids].sort());
    expect(await second.relay.logs()).not.toMatch(/warning|fatal|error/i);
  });

  it('survives SIGKILL of the container (stale pid file and all) and is delivered exactly once', async () => {
    const up = await upstream();
    await up.fake.close();
    const volume = await spoolVolume();
    const first = await relayOn(up, {}, [`${volume}:/var/spool/postfix`]);
    const id = randomUUID();
    await sendMail(first.port, message(id));
    await first.relay.waitForLog(/status=deferred/);
    await first.relay.container.kill({ signal: 'SIGKILL' });
    expect((await first.relay.container.inspect()).State.ExitCode).toBe(137);

    const fake = await up.restart!();
    const second = await relayOn(up, {}, [`${volume}:/var/spool/postfix`]);
    await fake.waitForMessages(1, 30_000);
    await sleep(3_000);
    expect(idsOf(fake)).toEqual([id]);
    expect(await second.relay.logs()).toMatch(/daemon started/);
  });

  it('delivers what is queued before stopping when the relay is back within SHUTDOWN_GRACE', async () => {
    const up = await upstream();
    await up.fake.close();
    // Slow retries: only the flush on SIGTERM can deliver it in time.
    const relay = await relayOn(up, { QUEUE_RETRY: '300' });
    const id = randomUUID();
    await sendMail(relay.port, message(id));
    await relay.relay.waitForLog(/status=deferred/);
    const fake = await up.restart!();
    const stopped = await stopTimed(relay.relay.container);
    expect(stopped.exitCode).toBe(0);
    expect(idsOf(fake)).toEqual([id]);
    const logs = await relay.relay.logs();
    expect(logs).toMatch(/no longer taking mail; delivering 1 queued message/);
    expect(logs).toMatch(/queue empty/);
  });

  it('delivers mail queued while the relay was down once it is back, without a restart', async () => {
    const up = await upstream();
    await up.fake.close();
    const relay = await relayOn(up, { PREFLIGHT: 'off' });
    const id = randomUUID();
    await sendMail(relay.port, message(id));
    await relay.relay.waitForLog(/status=deferred \(connect to smtp\.gmail\.com\[[\d.]+\]:587: Connection refused\)/);
    const fake = await up.restart!();
    await fake.waitForMessages(1, 30_000);
    expect(idsOf(fake)).toEqual([id]);
  });

  it('stops at once, exit code 0, when nothing is queued', async () => {
    const up = await upstream();
    const relay = await relayOn(up);
    const stopped = await stopTimed(relay.relay.container);
    expect(stopped.exitCode).toBe(0);
    expect(stopped.seconds).toBeLessThan(2);
  });
});

describe("Gmail's temporary refusals keep mail queued and retried", () => {
  it('retries after "421 Try again later" on the first connections', async () => {
    const up = await upstream({ behaviour: { rejectConnections: 3 } });
    const relay = await relayOn(up, { PREFLIGHT: 'off' });
    const id = randomUUID();
    await sendMail(relay.port, message(id));
    await up.fake.waitForMessages(1, 30_000);
    expect(idsOf(up.fake)).toEqual([id]);
    expect(await relay.relay.logs()).toMatch(/status=deferred .*421/);
  });

  it('keeps mail queued on the daily-quota answer (550 5.4.5) instead of bouncing it', async () => {
    // One refusal, then Gmail takes mail again (the quota lifted): the fake lifts it itself, so no race with the log.
    const up = await upstream({ behaviour: { failAfterMessages: { count: 1, code: 550, message: '5.4.5 Daily user sending limit exceeded.', times: 1 } } });
    const relay = await relayOn(up, { PREFLIGHT: 'off' });
    const [first, second] = [randomUUID(), randomUUID()];
    await sendMail(relay.port, message(first));
    await up.fake.waitForMessages(1, 30_000);
    await sendMail(relay.port, message(second));
    await relay.relay.waitForLog(/dsn=4\.4\.5, status=deferred/);
    await up.fake.waitForMessages(2, 30_000);
    await sleep(2_000);
    expect(idsOf(up.fake)).toEqual([first, second]);
    // A bounce would have reached the relay as a message from the null sender.
    expect(up.fake.messages.filter((received) => received.envelopeFrom === '')).toEqual([]);
    expect(await relay.relay.logs()).not.toMatch(/status=bounced/);
  });
});

describe('secrets rotate without a restart', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gmail-relay-rotate-'));
    await chmod(dir, 0o755);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  /** Kubernetes' way: write beside, then swap in one rename. */
  async function rotate(file: string, content: string): Promise<void> {
    await writeFile(`${file}.new`, content, { mode: 0o644 });
    await rename(`${file}.new`, file);
  }

  it('queues mail while the password is wrong, reports it, and delivers once the secret file is fixed', async () => {
    const secretDir = await mkdtemp(join(dir, 'secret-'));
    await chmod(secretDir, 0o755);
    const passFile = join(secretDir, 'pass');
    await writeFile(passFile, 'wrong-password\n', { mode: 0o644 });
    const healthPort = await findFreePort();
    const up = await upstream();
    const relay = await relayOn(
      up,
      { GMAIL_PASS: undefined, GMAIL_PASS_FILE: '/run/secrets/gmail/pass', HEALTH_PORT: String(healthPort) },
      [`${secretDir}:/run/secrets/gmail:ro`],
    );
    await relay.relay.waitForLog(/relay check failed: Gmail refused the login for relay\.smoke@gmail\.com: use an app password/);
    const id = randomUUID();
    await sendMail(relay.port, message(id));
    await relay.relay.waitForLog(/SASL authentication failed.*status=deferred|status=deferred.*SASL authentication failed/);
    const notReady = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await fetch(`http://127.0.0.1:${healthPort}/metrics`).then((r) => r.text())).toMatch(/^gmail_relay_relay_auth_failures_total [1-9]/m);

    await rotate(passFile, `${TEST_PASS}\n`);
    await up.fake.waitForMessages(1, 30_000);
    expect(idsOf(up.fake)).toEqual([id]);
    expect(up.fake.messages[0]?.authPass).toBe(TEST_PASS);
    await relay.relay.waitForLog(/relay check passed/);
    expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);
    // Same container throughout: the fix needed no restart.
    expect((await relay.relay.container.inspect()).RestartCount).toBe(0);
  });

  it('refuses an invalid new configuration on SIGHUP and keeps relaying with the old one', async () => {
    const secretDir = await mkdtemp(join(dir, 'secret-'));
    await chmod(secretDir, 0o755);
    const passFile = join(secretDir, 'pass');
    await writeFile(passFile, `${TEST_PASS}\n`, { mode: 0o644 });
    const up = await upstream();
    const relay = await relayOn(up, { GMAIL_PASS: undefined, GMAIL_PASS_FILE: '/run/secrets/gmail/pass' }, [`${secretDir}:/run/secrets/gmail:ro`]);
    await rotate(passFile, '');
    await relay.relay.waitForLog(/new configuration refused, the running one stays:\n\s+GMAIL_PASS: is empty/);
    await relay.relay.container.kill({ signal: 'SIGHUP' });
    await relay.relay.waitForLog(/reloading the configuration \(SIGHUP\)\n.*new configuration refused/);
    const id = randomUUID();
    await sendMail(relay.port, message(id));
    await up.fake.waitForMessages(1, 30_000);
    expect(up.fake.messages[0]?.authPass).toBe(TEST_PASS);
  });
});

describe('health, metrics and logs', () => {
  it('reports known traffic on /metrics and /readyz', async () => {
    const healthPort = await findFreePort();
    const up = await upstream();
    const relay = await relayOn(up, { HEALTH_PORT: String(healthPort) });
    await relay.relay.waitForLog(/relay check passed/);
    for (let i = 0; i < 3; i++) await sendMail(relay.port, message());
    await up.fake.waitForMessages(3, 30_000);
    await relay.relay.waitForLog(/(status=sent[\s\S]*){3}/);
    const metrics = await fetch(`http://127.0.0.1:${healthPort}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^gmail_relay_messages_sent_total 3$/m);
    expect(metrics).toMatch(/^gmail_relay_messages_deferred_total 0$/m);
    expect(metrics).toMatch(/^gmail_relay_messages_bounced_total 0$/m);
    expect(metrics).toMatch(/^gmail_relay_queue_length 0$/m);
    expect(metrics).toMatch(/^gmail_relay_relay_auth_failures_total 0$/m);
    const lastDelivery = Number(/^gmail_relay_last_delivery_timestamp_seconds (\d+)/m.exec(metrics)?.[1]);
    expect(Math.abs(lastDelivery - Date.now() / 1000)).toBeLessThan(60);
    const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
    expect([ready.status, (await ready.text()).trim()]).toEqual([200, 'ready']);
    expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);
  });

  it('leaves no zombie after 200 health checks, and the checks leave no trace in the log', async () => {
    const up = await upstream();
    const relay = await relayOn(up);
    const runCheck = async () => {
      const exec = await relay.relay.container.exec({ Cmd: ['node', '/opt/gmail-relay/entrypoint.cjs', 'healthcheck'], AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({});
      await new Promise((resolve) => stream.on('end', resolve).resume());
      return (await exec.inspect()).ExitCode;
    };
    const codes: (number | null)[] = [];
    for (let batch = 0; batch < 50; batch++) codes.push(...(await Promise.all([runCheck(), runCheck(), runCheck(), runCheck()])));
    expect(codes.length).toBe(200);
    expect(codes.every((code) => code === 0)).toBe(true);
    const zombies = await execOutput(relay.relay.container, ['sh', '-c', 'grep -l "^State:[[:space:]]*Z" /proc/[0-9]*/status | wc -l']);
    expect(Number(zombies.trim())).toBe(0);
    expect((await execOutput(relay.relay.container, ['cat', '/proc/1/comm'])).trim()).toBe('tini');
    // Only the test's own readiness poll (from 127.0.0.1) may show up, not 200 probes.
    const logs = await relay.relay.logs();
    expect(logs).not.toContain('127.0.0.254');
    expect(logs.match(/connect from/g)?.length ?? 0).toBeLessThanOrEqual(4);
  }, 300_000);

  it("shows a delivery's log line within a second of the delivery", async () => {
    const up = await upstream();
    const relay = await relayOn(up);
    await sendMail(relay.port, message());
    const [received] = await up.fake.waitForMessages(1, 30_000);
    await relay.relay.waitForLog(/status=sent/, 5_000);
    expect(Date.now() - received!.receivedAt).toBeLessThan(1_000);
  });

  it('writes one JSON object per line with delivery fields, and no password even in debug output', async () => {
    const up = await upstream();
    // debug_peer_list makes Postfix log the whole SMTP conversation with the relay, AUTH included.
    const relay = await relayOn(up, { LOG_FORMAT: 'json', POSTFIX_debug_peer_list: up.address });
    await sendMail(relay.port, message());
    await up.fake.waitForMessages(1, 30_000);
    const logs = await relay.relay.waitForLog(/"status":"sent"/);
    const lines = logs.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const line of lines) expect(Object.keys(line).slice(0, 4)).toEqual(['time', 'level', 'program', 'message']);
    const delivery = lines.find((line) => line['status'] === 'sent');
    expect(delivery).toMatchObject({ program: 'postfix/smtp', recipient: 'someone@example.org', dsn: '2.0.0' });
    expect(delivery?.['queue_id']).toMatch(/^[0-9A-Za-z]+$/);
    expect(delivery?.['relay']).toMatch(/^smtp\.gmail\.com\[[\d.]+\]:587$/);
    expect(typeof delivery?.['delay']).toBe('number');
    // Postfix did log the AUTH exchange, and what stood for the password was redacted;
    // the relay fixture also fails the removal if any form of the password is in the log.
    expect(logs).toMatch(/AUTH PLAIN \*{8}/);
  });
});

describe('preflight', () => {
  it('`check` logs in and reports success, or explains a wrong password', async () => {
    const up = await upstream();
    const base = { image, owner, cmd: ['check'], extraHosts: [`smtp.gmail.com:${up.address}`], binds: [`${up.ca.caFile}:/run/ca.pem:ro`] };
    const env = { GMAIL_USER: TEST_USER, RELAY_TLS_CA_FILE: '/run/ca.pem' };
    const passed = await runRelayToExit(docker, { ...base, env: { ...env, GMAIL_PASS: TEST_PASS } });
    expect([passed.exitCode, passed.output]).toEqual([0, expect.stringMatching(/relay check passed: .*certificate verified.*logged in as relay\.smoke@gmail\.com/)]);
    const failed = await runRelayToExit(docker, { ...base, env: { ...env, GMAIL_PASS: 'not-the-password' } });
    expect(failed.exitCode).toBe(1);
    expect(failed.output).toMatch(/Gmail refused the login for relay\.smoke@gmail\.com: use an app password \(needs 2-Step Verification\)/);
    expect(failed.output).not.toContain('not-the-password');
    expect(up.fake.messages).toEqual([]);
  });

  it('PREFLIGHT=strict refuses to start without a working relay', async () => {
    const up = await upstream();
    await up.fake.close();
    const port = await findFreePort();
    const { exitCode, output } = await runRelayToExit(docker, {
      image,
      owner,
      env: { GMAIL_USER: TEST_USER, GMAIL_PASS: TEST_PASS, RELAY_TLS_CA_FILE: '/run/ca.pem', SMTP_BIND: '127.0.0.1', SMTP_PORT: String(port), PREFLIGHT: 'strict' },
      extraHosts: [`smtp.gmail.com:${up.address}`],
      binds: [`${up.ca.caFile}:/run/ca.pem:ro`],
    });
    expect(exitCode).toBe(1);
    expect(output).toMatch(/cannot connect to smtp\.gmail\.com:587: connection refused/);
    expect(output).not.toMatch(/daemon started/);
  });
});
