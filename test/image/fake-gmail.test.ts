import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { promisify } from 'node:util';
import { createTransport } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GMAIL_SIZE_LIMIT, startFakeGmail, type FakeGmail, type FakeGmailOptions } from '../../image/smoke/fake-gmail.js';
import { createTestCa, type TestCa } from '../../image/smoke/test-ca.js';

const USER = 'relay.test@gmail.com';
// Colon, space and non-ASCII: the password must arrive byte for byte, not just "some login".
const PASS = 'ab:cd ef wörd';
const MUST_STARTTLS = '530 5.7.0 Must issue a STARTTLS command first.\r\n';

let dir: string;
let ca: TestCa;
const running: FakeGmail[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fake-gmail-test-'));
  ca = await createTestCa(dir, ['smtp.gmail.com', 'localhost']);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((fake) => fake.close()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function start(options: Partial<FakeGmailOptions> = {}): Promise<FakeGmail> {
  const fake = await startFakeGmail({ key: ca.keyPem, cert: ca.certPem, credentials: { user: USER, pass: PASS }, ...options });
  running.push(fake);
  return fake;
}

/** A nodemailer client that verifies the certificate as issued to smtp.gmail.com. */
function client(fake: FakeGmail, options: SMTPTransport.Options = {}) {
  return createTransport({
    host: '127.0.0.1',
    port: fake.port,
    name: 'client.test',
    secure: fake.mode === 'implicit-tls',
    requireTLS: fake.mode === 'starttls',
    tls: { ca: ca.caPem, servername: 'smtp.gmail.com' },
    auth: { user: USER, pass: PASS },
    ...options,
  });
}

const simpleMail = { from: 'app@example.com', to: 'someone@example.org', subject: 'hello', text: 'hello world' };

/** Rejection of a promise as the SMTP error nodemailer built, for asserting on its reply. */
async function smtpFailure(promise: Promise<unknown>): Promise<{ responseCode?: number; response?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { responseCode?: number; response?: string; message: string };
  }
  throw new Error('expected the SMTP exchange to fail');
}

/** A line-level SMTP client, for replies nodemailer would hide (EHLO text, exact reply lines). */
async function openDialog(port: number) {
  let socket: Socket = connect(port, '127.0.0.1');
  let buffer = '';
  let closed = false;
  let wake = (): void => {};
  const listen = (s: Socket): void => {
    s.setEncoding('latin1');
    s.on('data', (data: string) => {
      buffer += data;
      wake();
    });
    s.on('close', () => {
      closed = true;
      wake();
    });
    s.on('error', () => {});
  };
  listen(socket);
  const reply = async (): Promise<string> => {
    for (;;) {
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(buffer);
      if (match) {
        buffer = buffer.slice(match[0].length);
        return match[0];
      }
      if (closed) throw new Error(`connection closed, unparsed: ${JSON.stringify(buffer)}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  const command = (line: string): Promise<string> => {
    socket.write(`${line}\r\n`);
    return reply();
  };
  const startTls = async (): Promise<void> => {
    const secure = connectTls({ socket, ca: ca.caPem, servername: 'smtp.gmail.com' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    socket.removeAllListeners('data');
    socket = secure;
    listen(secure);
  };
  return { reply, command, startTls, isClosed: () => closed, close: () => socket.destroy() };
}

describe('createTestCa', () => {
  it('issues a v3 chain that OpenSSL verifies strictly for smtp.gmail.com', async () => {
    const { stdout } = await promisify(execFile)('openssl', [
      'verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'smtp.gmail.com',
      '-CAfile', ca.caFile, join(dir, 'server.pem'),
    ]);
    expect(stdout).toContain('OK');
    expect((await stat(ca.caFile)).mode & 0o777).toBe(0o644);
  });
});

describe('fake Gmail', () => {
  it('takes a message over STARTTLS byte for byte and records the exact login', async () => {
    const fake = await start();
    const raw = Buffer.concat([
      Buffer.from('From: app@example.com\r\nTo: someone@example.org\r\nSubject: exact\r\n\r\n'),
      Buffer.from('.leading dot\r\n..two dots\r\n.\r\nraw bytes: '),
      Buffer.from([0xc3, 0xa9, 0xff, 0x00, 0x7f]),
      Buffer.from('\r\nlast line\r\n'),
    ]);
    const info = await client(fake).sendMail({ envelope: { from: 'app@example.com', to: ['someone@example.org', 'other@example.net'] }, raw });

    expect(info.response).toMatch(/^250 2\.0\.0 OK \d+ fake-1 - gsmtp$/);
    const [message] = await fake.waitForMessages(1, 1000);
    expect(message?.raw.equals(raw)).toBe(true);
    expect(message).toMatchObject({
      envelopeFrom: 'app@example.com',
      envelopeTo: ['someone@example.org', 'other@example.net'],
      headers: 'From: app@example.com\r\nTo: someone@example.org\r\nSubject: exact',
      secure: true,
      authUser: USER,
      authPass: PASS,
    });
    expect(message?.body.equals(raw.subarray(raw.indexOf('\r\n\r\n') + 4))).toBe(true);
  });

  it('accepts AUTH LOGIN as well as PLAIN', async () => {
    const fake = await start();
    await client(fake, { authMethod: 'LOGIN' }).sendMail(simpleMail);
    await client(fake, { authMethod: 'PLAIN' }).sendMail(simpleMail);
    expect(fake.messages.map((m) => m.authPass)).toEqual([PASS, PASS]);
    expect(fake.stats.logins).toBe(2);
  });

  it('refuses a wrong password with 535 and records nothing', async () => {
    const fake = await start();
    const error = await smtpFailure(client(fake, { auth: { user: USER, pass: `${PASS} ` } }).sendMail(simpleMail));
    expect(error.responseCode).toBe(535);
    expect(error.response).toContain('5.7.8 Username and Password not accepted');
    expect(fake.messages).toEqual([]);
    expect(fake.stats).toMatchObject({ logins: 0, failedLogins: 1, messages: 0 });
  });

  it('refuses mail from a client that skips STARTTLS with 530', async () => {
    const fake = await start();
    const error = await smtpFailure(client(fake, { requireTLS: false, ignoreTLS: true }).sendMail(simpleMail));
    expect(error.responseCode).toBe(530);
    expect(error.response).toContain('Must issue a STARTTLS command first');

    const forced = await smtpFailure(client(fake, { requireTLS: false, ignoreTLS: true, forceAuth: true }).sendMail(simpleMail));
    expect(forced.responseCode).toBe(530);
    expect(fake.stats).toMatchObject({ tlsHandshakes: 0, logins: 0, authBeforeTls: 1, messages: 0 });
  });

  it('talks like smtp.gmail.com:587 before and after STARTTLS', async () => {
    const fake = await start();
    const smtp = await openDialog(fake.port);
    expect(await smtp.reply()).toBe('220 smtp.gmail.com ESMTP fake\r\n');
    const plainEhlo = await smtp.command('EHLO client.test');
    expect(plainEhlo).toMatch(/^250-smtp\.gmail\.com at your service, \[127\.0\.0\.1\]\r\n/);
    expect(plainEhlo).toContain(`SIZE ${GMAIL_SIZE_LIMIT}\r\n`);
    expect(plainEhlo).toContain('STARTTLS');
    expect(plainEhlo).not.toContain('AUTH');
    expect(await smtp.command(`AUTH PLAIN ${Buffer.from(`\0${USER}\0${PASS}`).toString('base64')}`)).toBe(MUST_STARTTLS);
    expect(await smtp.command('MAIL FROM:<app@example.com>')).toBe(MUST_STARTTLS);

    expect(await smtp.command('STARTTLS')).toMatch(/^220 /);
    await smtp.startTls();
    const secureEhlo = await smtp.command('EHLO client.test');
    expect(secureEhlo).toContain('AUTH LOGIN PLAIN');
    expect(secureEhlo).not.toContain('STARTTLS');
    expect(await smtp.command('MAIL FROM:<app@example.com>')).toMatch(/^530 5\.7\.0 Authentication Required/);
    expect(await smtp.command(`AUTH PLAIN ${Buffer.from(`\0${USER}\0${PASS}`).toString('base64')}`)).toMatch(/^235 /);
    expect(await smtp.command('MAIL FROM:<app@example.com>')).toMatch(/^250 /);
    smtp.close();
    expect(fake.stats).toMatchObject({ connections: 1, tlsHandshakes: 1, logins: 1, authBeforeTls: 1 });
  });

  it('speaks TLS from the first byte in implicit-tls mode', async () => {
    const fake = await start({ mode: 'implicit-tls' });
    await client(fake).sendMail(simpleMail);
    const [message] = await fake.waitForMessages(1, 1000);
    expect(message).toMatchObject({ secure: true, authUser: USER, authPass: PASS });
    expect(fake.stats).toMatchObject({ connections: 1, tlsHandshakes: 1, logins: 1 });
  });

  it('accepts unauthenticated mail over TLS when it has no credentials (IP-authorised smarthost)', async () => {
    const fake = await start({ credentials: undefined });
    await client(fake, { auth: undefined }).sendMail(simpleMail);
    const [message] = await fake.waitForMessages(1, 1000);
    expect(message?.secure).toBe(true);
    expect(message?.authUser).toBeUndefined();
    expect(message?.authPass).toBeUndefined();
  });

  it('requires the new login after setCredentials', async () => {
    const fake = await start({ credentials: undefined });
    fake.setCredentials({ user: USER, pass: 'other password' });
    expect((await smtpFailure(client(fake, { auth: undefined }).sendMail(simpleMail))).responseCode).toBe(530);
    expect((await smtpFailure(client(fake).sendMail(simpleMail))).responseCode).toBe(535);
    await client(fake, { auth: { user: USER, pass: 'other password' } }).sendMail(simpleMail);
    expect(fake.messages.map((m) => m.authPass)).toEqual(['other password']);
  });

  it('refuses the first connections with 421 when told to', async () => {
    const fake = await start({ behaviour: { rejectConnections: 1 } });
    const error = await smtpFailure(client(fake).sendMail(simpleMail));
    expect(error.responseCode).toBe(421);
    expect(error.message).toContain('4.7.0 Try again later, closing connection.');
    await client(fake).sendMail(simpleMail);
    expect(fake.stats).toMatchObject({ connections: 2, messages: 1 });
  });

  it('answers with the configured failure once the message budget is spent', async () => {
    const fake = await start();
    const dailyLimit = { count: 1, code: 550, message: '5.4.5 Daily user sending limit exceeded.' };
    fake.setBehaviour({ failAfterMessages: dailyLimit });
    await client(fake).sendMail(simpleMail);
    const error = await smtpFailure(client(fake).sendMail(simpleMail));
    expect(error.responseCode).toBe(550);
    expect(error.response).toBe('550 5.4.5 Daily user sending limit exceeded.');
    expect(fake.messages).toHaveLength(1);

    fake.setBehaviour({});
    await client(fake).sendMail(simpleMail);
    expect(fake.messages).toHaveLength(2);
  });

  it('refuses a message over the size limit with 552', async () => {
    const fake = await start({ sizeLimit: 1000 });
    const raw = `Subject: big\r\n\r\n${'x'.repeat(2000)}\r\n`;
    const error = await smtpFailure(client(fake).sendMail({ envelope: { from: 'app@example.com', to: 'someone@example.org' }, raw }));
    expect(error.responseCode).toBe(552);

    // Without a SIZE= hint on MAIL the limit is enforced at the end of DATA, with Gmail's text.
    const smtp = await openDialog(fake.port);
    await smtp.reply();
    await smtp.command('EHLO client.test');
    await smtp.command('STARTTLS');
    await smtp.startTls();
    await smtp.command('EHLO client.test');
    await smtp.command(`AUTH PLAIN ${Buffer.from(`\0${USER}\0${PASS}`).toString('base64')}`);
    // Postfix announces the size on MAIL; smtp-server refuses that itself, with its own text.
    expect(await smtp.command('MAIL FROM:<app@example.com> SIZE=2000')).toMatch(/^552 /);
    await smtp.command('MAIL FROM:<app@example.com>');
    await smtp.command('RCPT TO:<someone@example.org>');
    expect(await smtp.command('DATA')).toMatch(/^354 /);
    expect(await smtp.command(`${raw}.`)).toMatch(/^552 5\.3\.4 Your message exceeded Google's message size limits/);
    smtp.close();
    expect(fake.messages).toEqual([]);
  });

  it('counts connections, TLS handshakes and logins (a pooled client reuses one session)', async () => {
    const fake = await start();
    await client(fake).sendMail(simpleMail);
    await client(fake).sendMail(simpleMail);
    const pooled = createTransport({
      pool: true, maxConnections: 1, host: '127.0.0.1', port: fake.port, requireTLS: true,
      tls: { ca: ca.caPem, servername: 'smtp.gmail.com' }, auth: { user: USER, pass: PASS },
    });
    await Promise.all([pooled.sendMail(simpleMail), pooled.sendMail(simpleMail), pooled.sendMail(simpleMail)]);
    pooled.close();
    expect(fake.stats).toEqual({ connections: 3, tlsHandshakes: 3, logins: 3, failedLogins: 0, messages: 5, authBeforeTls: 0 });
  });

  it('waitForMessages says how many messages arrived when it gives up', async () => {
    const fake = await start();
    await client(fake).sendMail(simpleMail);
    await expect(fake.waitForMessages(2, 50)).rejects.toThrow(/expected 2 message\(s\) within 50 ms, 1 arrived/);
  });

  it('closes within a second even with a client still connected', async () => {
    const fake = await startFakeGmail({ key: ca.keyPem, cert: ca.certPem });
    const smtp = await openDialog(fake.port);
    await smtp.reply();
    const started = Date.now();
    await fake.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect.poll(() => smtp.isClosed(), { timeout: 1000 }).toBe(true);
  });
});
