import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkCommand } from '../../entrypoint/commands/check.js';
import type { Runtime } from '../../entrypoint/commands/runtime.js';
import type { Config, HostFacts, RelayConfig } from '../../entrypoint/config/config.js';
import type { Env } from '../../entrypoint/config/resolve-secret-files.js';
import { loadConfig } from '../../entrypoint/config/load-config.js';
import { checkRelay, type RelayCheckResult } from '../../entrypoint/preflight/check-relay.js';
import { explainFailure, redactPassword, type FailureContext } from '../../entrypoint/preflight/explain-failure.js';
import { startFakeGmail, type FakeGmail, type FakeGmailOptions } from '../../image/smoke/fake-gmail.js';
import { findFreePort } from '../../image/smoke/free-port.js';
import { createTestCa, type TestCa } from '../../image/smoke/test-ca.js';

const USER = 'relay.test@gmail.com';
// Colon, space and non-ASCII: distinctive in any message it might leak into.
const PASS = 'ab:cd ef wörd-S3cr3t';
const FACTS: HostFacts = { hostname: 'relay-host', interfaceNetworks: [], postfixParameters: new Set() };
const readTextFile = (path: string): string => readFileSync(path, 'utf8');
/** Every form the password could take in an SMTP exchange. */
const PASSWORD_FORMS = [
  PASS,
  Buffer.from(PASS).toString('base64'),
  Buffer.from(`\0${USER}\0${PASS}`).toString('base64'),
  Buffer.from(`\0${USER}\0wrong-${PASS}`).toString('base64'),
];

let dir: string;
/** Signs the fake's certificate for smtp.gmail.com and localhost (which /etc/hosts maps to 127.0.0.1). */
let ca: TestCa;
/** An unrelated CA and a certificate it signed for mail.example.net only. */
let otherCa: TestCa;
const running: FakeGmail[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'check-relay-test-'));
  ca = await createTestCa(join(dir, 'gmail'), ['smtp.gmail.com', 'localhost']);
  otherCa = await createTestCa(join(dir, 'other'), ['mail.example.net']);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((fake) => fake.close()));
  await Promise.all(closers.splice(0).map((close) => close()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function start(options: Partial<FakeGmailOptions> = {}): Promise<FakeGmail> {
  const fake = await startFakeGmail({ key: ca.keyPem, cert: ca.certPem, credentials: { user: USER, pass: PASS }, ...options });
  running.push(fake);
  return fake;
}

/** The real loader with RELAY_* settings, pointed at localhost:port; `relay` then overrides what env cannot say. */
function configFor(port: number, env: Env = {}, relay: Partial<RelayConfig> = {}): Config {
  const { config } = loadConfig(
    {
      RELAY_HOST: 'localhost',
      RELAY_PORT: String(port),
      RELAY_USER: USER,
      RELAY_PASS: PASS,
      RELAY_TLS_CA_FILE: ca.caFile,
      MAIL_HOSTNAME: 'relay.example.org',
      ...env,
    },
    FACTS,
    readTextFile,
  );
  return { ...config, relay: { ...config.relay, ...relay } };
}

function expectNoPassword(result: RelayCheckResult): void {
  const text = result.ok ? result.detail : result.message;
  for (const form of PASSWORD_FORMS) expect(text).not.toContain(form);
}

/** checkRelay, plus the promise every result keeps: no form of the password in what it says. */
async function check(...args: Parameters<typeof checkRelay>): Promise<RelayCheckResult> {
  const result = await checkRelay(...args);
  expectNoPassword(result);
  return result;
}

function authAttempts(fake: FakeGmail): number {
  return fake.stats.logins + fake.stats.failedLogins + fake.stats.authBeforeTls;
}

/** Accepts TCP connections and never says a word. */
async function startSilentServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    sockets.forEach((socket) => socket.destroy());
    return new Promise((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('checkRelay against a fake Gmail', () => {
  it('logs in over STARTTLS with a verified certificate and sends no mail', async () => {
    const fake = await start();
    const result = await check(configFor(fake.port));
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.detail).toContain(`localhost:${fake.port} (127.0.0.1): STARTTLS, certificate verified against ${ca.caFile}, logged in as ${USER}`);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(fake.stats).toMatchObject({ tlsHandshakes: 1, logins: 1, failedLogins: 0, authBeforeTls: 0, messages: 0 });
    expect(fake.messages).toEqual([]);
  });

  it('reports a wrong password as auth-rejected with the server reply, without the password', async () => {
    const fake = await start();
    const result = await check(configFor(fake.port, { RELAY_PASS: `wrong-${PASS}` }));
    expect(result).toMatchObject({ ok: false, problem: 'auth-rejected' });
    if (result.ok) return;
    expect(result.message).toBe(`localhost refused the login for ${USER} (535 5.7.8 Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials)`);
    expect(fake.stats).toMatchObject({ failedLogins: 1, logins: 0, authBeforeTls: 0 });
  });

  it('refuses a certificate from an untrusted CA before sending any AUTH', async () => {
    const fake = await start();
    const result = await check(configFor(fake.port, { RELAY_TLS_CA_FILE: otherCa.caFile }));
    expect(result).toMatchObject({ ok: false, problem: 'certificate' });
    if (result.ok) return;
    expect(result.message).toBe(`the certificate of localhost is not signed by a CA in ${otherCa.caFile} (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
    expect(authAttempts(fake)).toBe(0);
    expect(fake.stats.messages).toBe(0);
  });

  it('refuses a certificate for another host name, naming both, before sending any AUTH', async () => {
    const fake = await start({ key: otherCa.keyPem, cert: otherCa.certPem });
    const result = await check(configFor(fake.port, { RELAY_TLS_CA_FILE: otherCa.caFile }));
    expect(result).toMatchObject({ ok: false, problem: 'certificate' });
    if (result.ok) return;
    expect(result.message).toBe('the certificate of localhost is for DNS:mail.example.net, not localhost');
    expect(authAttempts(fake)).toBe(0);
  });

  it('checks the certificate against an IP address when the relay is given as one', async () => {
    const fake = await start();
    const result = await check(configFor(fake.port, { RELAY_HOST: '127.0.0.1' }));
    expect(result).toMatchObject({ ok: false, problem: 'certificate', message: 'the certificate of 127.0.0.1 is for DNS:smtp.gmail.com, DNS:localhost, not 127.0.0.1' });
    expect(authAttempts(fake)).toBe(0);
  });

  it('names host:port when nothing listens', async () => {
    const port = await findFreePort();
    const result = await check(configFor(port));
    expect(result).toMatchObject({ ok: false, problem: 'connection-refused', message: `cannot connect to localhost:${port}: connection refused` });
  });

  it('times out on a server that accepts the connection and never speaks', async () => {
    const port = await startSilentServer();
    const result = await check(configFor(port), { timeoutMs: 500 });
    expect(result).toMatchObject({ ok: false, problem: 'timeout' });
    if (result.ok) return;
    expect(result.message).toMatch(new RegExp(`^no answer from localhost:${port}: timed out after 0\\.5 s waiting for the SMTP greeting`));
    expect(result.durationMs).toBeLessThan(3_000);
  });

  it('speaks TLS from the first byte in wrapper mode', async () => {
    const fake = await start({ mode: 'implicit-tls' });
    const result = await check(configFor(fake.port, {}, { wrapperMode: true }));
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.detail).toContain('TLS from the first byte, certificate verified');
    expect(fake.stats).toMatchObject({ tlsHandshakes: 1, logins: 1, messages: 0 });
  });

  it('explains STARTTLS against a TLS-from-the-first-byte port as a silent server', async () => {
    const fake = await start({ mode: 'implicit-tls' });
    const result = await check(configFor(fake.port), { timeoutMs: 500 });
    expect(result).toMatchObject({ ok: false, problem: 'timeout' });
    if (result.ok) return;
    expect(result.message).toContain('expects TLS from the first byte');
    expect(authAttempts(fake)).toBe(0);
  });

  it('explains wrapper mode against a STARTTLS port as a TLS failure', async () => {
    const fake = await start();
    const result = await check(configFor(fake.port, {}, { wrapperMode: true }));
    expect(result).toMatchObject({ ok: false, problem: 'tls' });
    if (result.ok) return;
    expect(result.message).toBe(`TLS handshake with localhost:${fake.port} failed (wrong version number): it does not speak TLS from the first byte; port 587 uses STARTTLS`);
    expect(authAttempts(fake)).toBe(0);
  });

  it('reports a greeting that turns the client away', async () => {
    const fake = await start({ behaviour: { rejectConnections: 1 } });
    const result = await check(configFor(fake.port));
    expect(result).toMatchObject({ ok: false, problem: 'protocol', message: `localhost:${fake.port} answered: 421 4.7.0 Try again later, closing connection.` });
    expect(authAttempts(fake)).toBe(0);
  });

  it('skips AUTH without credentials', async () => {
    const fake = await start({ credentials: undefined });
    const result = await check(configFor(fake.port, { RELAY_USER: undefined, RELAY_PASS: undefined }));
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.detail).toContain('no credentials, AUTH not tried');
    expect(fake.stats).toMatchObject({ tlsHandshakes: 1, logins: 0, failedLogins: 0, authBeforeTls: 0 });
  });

  it('accepts an untrusted certificate at TLS level encrypt, still over TLS', async () => {
    const fake = await start();
    const result = await check(configFor(fake.port, { RELAY_TLS_LEVEL: 'encrypt', RELAY_TLS_CA_FILE: join(dir, 'missing.pem') }));
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.detail).toContain('certificate not verified (TLS level encrypt)');
    expect(fake.stats).toMatchObject({ tlsHandshakes: 1, logins: 1, authBeforeTls: 0 });
  });

  it('names a missing CA file and does not connect', async () => {
    const fake = await start();
    const missing = join(dir, 'missing.pem');
    // The loader itself refuses a missing CA file; the check must cope when it vanishes later.
    const result = await check(configFor(fake.port, {}, { caFile: missing }));
    expect(result).toMatchObject({ ok: false, problem: 'ca-file', message: `cannot use the CA file ${missing}: cannot read it (ENOENT)` });
    expect(fake.stats.connections).toBe(0);
  });

  it('names a CA file that holds no certificate', async () => {
    const fake = await start();
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    const result = await check(configFor(fake.port, { RELAY_TLS_CA_FILE: garbage }));
    expect(result).toMatchObject({ ok: false, problem: 'ca-file', message: `cannot use the CA file ${garbage}: it holds no PEM certificate` });
    expect(fake.stats.connections).toBe(0);
  });

  it('reads the CA file through the function it is given', async () => {
    const fake = await start();
    const result = await check(configFor(fake.port, {}, { caFile: '/virtual/ca.pem' }), {
      readTextFile: (path) => (path === '/virtual/ca.pem' ? ca.caPem : readTextFile(path)),
    });
    expect(result).toMatchObject({ ok: true });
  });

  it('reports a name that does not resolve', async () => {
    const result = await check(configFor(25, { RELAY_HOST: 'no-such-host.invalid' }), { timeoutMs: 2_000 });
    expect(result).toMatchObject({ ok: false, problem: 'dns' });
    if (result.ok) return;
    expect(result.message).toMatch(/^cannot resolve no-such-host\.invalid \(/);
  });
});

/** What nodemailer itself rejects with, for feeding explainFailure real shapes. */
async function nodemailerError(port: number, pass: string): Promise<unknown> {
  const transport = createTransport({
    host: '127.0.0.1',
    port,
    requireTLS: true,
    auth: { user: USER, pass },
    tls: { ca: ca.caPem, servername: 'localhost' },
    logger: false,
  });
  try {
    await transport.verify();
  } catch (error) {
    return error;
  } finally {
    transport.close();
  }
  throw new Error('expected verify() to fail');
}

const GMAIL_CONTEXT: FailureContext = { host: 'smtp.gmail.com', port: 587, caFile: '/etc/ssl/certs/ca-certificates.crt', user: USER, timeoutMs: 10_000, wrapperMode: false };

describe('explainFailure', () => {
  it("turns Gmail's 535 into the app-password hint", async () => {
    const fake = await start();
    const error = await nodemailerError(fake.port, `wrong-${PASS}`);
    expect(error).toMatchObject({ code: 'EAUTH', responseCode: 535 });
    expect(explainFailure(error, GMAIL_CONTEXT)).toEqual({
      problem: 'auth-rejected',
      message: `Gmail refused the login for ${USER}: use an app password (needs 2-Step Verification), not your account password (535 5.7.8 Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials)`,
    });
  });

  it("gives the same hint for Gmail's 534 application-specific password reply, joining its lines", () => {
    const response = '534-5.7.9 Application-specific password required. For more information, go to\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor';
    const error = Object.assign(new Error(`Invalid login: ${response}`), { code: 'EAUTH', response, responseCode: 534, command: 'AUTH PLAIN' });
    expect(explainFailure(error, GMAIL_CONTEXT).message).toBe(
      `Gmail refused the login for ${USER}: use an app password (needs 2-Step Verification), not your account password (534-5.7.9 Application-specific password required. For more information, go to 534 5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor)`,
    );
  });

  it('says when the relay does not take AUTH at all', () => {
    const error = Object.assign(new Error('Invalid login: 502 5.5.1 Unrecognized command'), { code: 'EAUTH', response: '502 5.5.1 Unrecognized command', responseCode: 502 });
    expect(explainFailure(error, { ...GMAIL_CONTEXT, host: 'mail.example.net' })).toEqual({
      problem: 'protocol',
      message: 'mail.example.net does not accept AUTH (502 5.5.1 Unrecognized command); is this the right relay, or does it need no credentials?',
    });
  });

  it('finds certificate problems whose code nodemailer replaced or dropped', () => {
    const wrapped = Object.assign(new Error('certificate has expired'), { code: 'ESOCKET', originalCode: 'CERT_HAS_EXPIRED', command: 'CONN' });
    expect(explainFailure(wrapped, GMAIL_CONTEXT)).toEqual({ problem: 'certificate', message: 'the certificate of smtp.gmail.com has expired' });
    // tls.connect throwing inside _upgradeConnection: only the message survives.
    const dropped = Object.assign(new Error('Error initiating TLS - self-signed certificate in certificate chain'), { code: 'ETLS', command: 'STARTTLS' });
    expect(explainFailure(dropped, GMAIL_CONTEXT)).toEqual({
      problem: 'certificate',
      message: 'the certificate of smtp.gmail.com is not signed by a CA in /etc/ssl/certs/ca-certificates.crt (SELF_SIGNED_CERT_IN_CHAIN)',
    });
    const altnames = new Error("Error initiating TLS - Hostname/IP does not match certificate's altnames: Host: smtp.gmail.com. is not in the cert's altnames: DNS:mail.example.net");
    expect(explainFailure(Object.assign(altnames, { code: 'ETLS' }), GMAIL_CONTEXT).message).toBe('the certificate of smtp.gmail.com is for DNS:mail.example.net, not smtp.gmail.com');
    const other = Object.assign(new Error('certificate revoked'), { code: 'ESOCKET', originalCode: 'CERT_REVOKED' });
    expect(explainFailure(other, GMAIL_CONTEXT)).toEqual({ problem: 'certificate', message: 'the certificate of smtp.gmail.com was rejected: certificate revoked (CERT_REVOKED)' });
  });

  it('looks into AggregateError and cause for the connection error', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 142.250.0.1:587'), { code: 'ECONNREFUSED' });
    const aggregate = Object.assign(new AggregateError([refused], ''), { code: 'ESOCKET' });
    expect(explainFailure(aggregate, GMAIL_CONTEXT)).toEqual({ problem: 'connection-refused', message: 'cannot connect to smtp.gmail.com:587: connection refused' });
    const caused = Object.assign(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }) }), { code: 'ESOCKET' });
    expect(explainFailure(caused, GMAIL_CONTEXT).message).toBe('cannot connect to smtp.gmail.com:587: host unreachable');
  });

  it('explains name resolution failures and timeouts', () => {
    const again = Object.assign(new Error('getaddrinfo EAI_AGAIN smtp.gmail.com'), { code: 'EAI_AGAIN' });
    expect(explainFailure(again, GMAIL_CONTEXT)).toMatchObject({ problem: 'dns', message: expect.stringMatching(/^cannot resolve smtp\.gmail\.com \(EAI_AGAIN/) });
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND smtp.gmail.com'), { code: 'EDNS', originalCode: 'ENOTFOUND' });
    expect(explainFailure(notFound, GMAIL_CONTEXT)).toEqual({ problem: 'dns', message: 'cannot resolve smtp.gmail.com (ENOTFOUND)' });
    const connect = Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT' });
    expect(explainFailure(connect, GMAIL_CONTEXT)).toEqual({ problem: 'timeout', message: 'no answer from smtp.gmail.com:587: timed out after 10 s connecting' });
  });

  it('reports a refused STARTTLS with the server reply', () => {
    const error = Object.assign(new Error('Error upgrading connection with STARTTLS: 454 4.7.0 TLS not available'), {
      code: 'ETLS',
      response: '454 4.7.0 TLS not available',
      responseCode: 454,
      command: 'STARTTLS',
    });
    expect(explainFailure(error, GMAIL_CONTEXT)).toEqual({ problem: 'tls', message: 'smtp.gmail.com:587 refused STARTTLS (454 4.7.0 TLS not available)' });
  });

  it('copes with things that are not errors', () => {
    expect(explainFailure('boom', GMAIL_CONTEXT)).toEqual({ problem: 'protocol', message: 'talking to smtp.gmail.com:587 failed: boom' });
    expect(explainFailure(undefined, GMAIL_CONTEXT).problem).toBe('protocol');
  });
});

describe('redactPassword', () => {
  it('removes the password and its base64 forms, wherever they sit', () => {
    const plain = Buffer.from(`\0${USER}\0${PASS}`).toString('base64');
    const text = `got ${PASS} and AUTH PLAIN ${plain} and ${Buffer.from(PASS).toString('base64')} and x${Buffer.from(`zz${PASS}`).toString('base64')}`;
    const redacted = redactPassword(text, USER, PASS);
    for (const form of PASSWORD_FORMS.slice(0, 3)) expect(redacted).not.toContain(form);
    for (const offset of [0, 1, 2]) {
      const core = Buffer.from(`${'z'.repeat(offset)}${PASS}`).toString('base64').slice(4, -4);
      expect(redacted).not.toContain(core);
    }
    expect(redacted).toContain('********');
  });
});

describe('checkCommand', () => {
  function runtimeFor(env: Env): Runtime & { out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return { env, facts: FACTS, readTextFile, writeStdout: (text) => out.push(text), writeStderr: (text) => err.push(text), onSignal: () => {}, out, err };
  }
  const envFor = (port: number): Env => ({ RELAY_HOST: 'localhost', RELAY_PORT: String(port), RELAY_USER: USER, RELAY_PASS: PASS, RELAY_TLS_CA_FILE: ca.caFile });

  it('prints one line on stdout and exits 0 when the relay takes the login', async () => {
    const fake = await start();
    const runtime = runtimeFor(envFor(fake.port));
    expect(await checkCommand(runtime)).toBe(0);
    expect(runtime.out.join('')).toMatch(new RegExp(`^relay check passed: localhost:${fake.port} \\(127\\.0\\.0\\.1\\): STARTTLS, .*logged in as ${USER.replace('.', '\\.')} \\(\\d+ ms\\)\\n$`));
    expect(runtime.err).toEqual([]);
  });

  it('prints the failure on stderr and exits 1', async () => {
    const fake = await start();
    const runtime = runtimeFor({ ...envFor(fake.port), RELAY_PASS: 'wrong' });
    expect(await checkCommand(runtime)).toBe(1);
    expect(runtime.err.join('')).toBe(`relay check failed: localhost refused the login for ${USER} (535 5.7.8 Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials)\n`);
    expect(runtime.out).toEqual([]);
  });

  it('exits 2 on a bad configuration, like print-config', async () => {
    const runtime = runtimeFor({ RELAY_PORT: 'nope' });
    expect(await checkCommand(runtime)).toBe(2);
    expect(runtime.err.join('')).toMatch(/^gmail-relay: invalid configuration:\n {2}RELAY_PORT: /);
  });
});
