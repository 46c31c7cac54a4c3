import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../entrypoint/log/format-log-line.js';
import type { LogEvent } from '../../entrypoint/log/log-event.js';
import { createLogger, redact, secretForms } from '../../entrypoint/log/logger.js';
import type { LogFormat } from '../../entrypoint/config/config.js';

const NOW = new Date('2026-12-03T17:00:00.123Z');
const POSTFIX_WARNING = 'Dec  3 17:00:00 host postfix/smtp[42]: warning: foo';

const SUPERVISOR_EVENTS: LogEvent[] = [
  { kind: 'starting', command: 'run' },
  { kind: 'config-summary', summary: { relay: '[smtp.gmail.com]:587', auth: 'someone@gmail.com' } },
  { kind: 'warning', message: 'RELAY_TLS_LEVEL=encrypt: not verified' },
  { kind: 'config-invalid', problems: [{ variable: 'GMAIL_USER', message: 'is required' }] },
  { kind: 'postfix-started', pid: 123 },
  { kind: 'stopping', signal: 'SIGTERM' },
  { kind: 'stopped', exitCode: 0 },
  { kind: 'postfix-died', code: 1, signal: null },
  { kind: 'postfix-died', code: null, signal: 'SIGKILL' },
  { kind: 'fatal', message: 'postmap failed' },
];

interface JsonLine {
  readonly time: string;
  readonly level: string;
  readonly program: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

function json(event: LogEvent): JsonLine {
  return JSON.parse(formatLogLine(event, 'json', NOW)) as JsonLine;
}

describe('formatLogLine plain', () => {
  it.each([
    POSTFIX_WARNING,
    'Dec 03 17:00:00 host postfix/smtpd[7]: connect from localhost[127.0.0.1]',
    'not a syslog line at all',
    '',
    '  leading spaces and gmail-relay: inside',
  ])('passes the postfix line %j through verbatim', (line) => {
    expect(formatLogLine({ kind: 'postfix-line', line }, 'plain', NOW)).toBe(line);
  });

  it.each(SUPERVISOR_EVENTS.map((event) => [event.kind, event] as const))('prefixes the supervisor event %s with "gmail-relay:"', (_kind, event) => {
    expect(formatLogLine(event, 'plain', NOW)).toMatch(/^gmail-relay: /);
  });

  it.each([
    [{ kind: 'starting', command: 'run' }, 'gmail-relay: starting (run)'],
    [{ kind: 'postfix-started', pid: 123 }, 'gmail-relay: starting postfix (postfix start-fg, pid 123)'],
    [{ kind: 'stopping', signal: 'SIGTERM' }, 'gmail-relay: SIGTERM received: stopping postfix'],
    [{ kind: 'stopped', exitCode: 0 }, 'gmail-relay: stopped, exit code 0'],
    [{ kind: 'warning', message: 'careful' }, 'gmail-relay: warning: careful'],
    [{ kind: 'fatal', message: 'postmap failed' }, 'gmail-relay: error: postmap failed'],
    [
      { kind: 'config-summary', summary: { relay: '[smtp.gmail.com]:587', auth: 'none' } },
      'gmail-relay: relay=[smtp.gmail.com]:587 auth=none',
    ],
    [
      { kind: 'postfix-died', code: null, signal: 'SIGKILL' },
      'gmail-relay: error: postfix exited unexpectedly (signal SIGKILL); exiting so the container is restarted',
    ],
    [
      { kind: 'postfix-died', code: 1, signal: null },
      'gmail-relay: error: postfix exited unexpectedly (code 1); exiting so the container is restarted',
    ],
  ] satisfies [LogEvent, string][])('formats %o as %j', (event, expected) => {
    expect(formatLogLine(event, 'plain', NOW)).toBe(expected);
  });

  it('lists every configuration problem on its own line', () => {
    const event: LogEvent = {
      kind: 'config-invalid',
      problems: [
        { variable: 'GMAIL_USER', message: 'is required' },
        { variable: 'SMTP_PORT', message: 'must be a port number from 1 to 65535' },
      ],
    };
    expect(formatLogLine(event, 'plain', NOW)).toBe(
      'gmail-relay: error: invalid configuration, nothing started:\n  GMAIL_USER: is required\n  SMTP_PORT: must be a port number from 1 to 65535',
    );
  });
});

describe('formatLogLine json', () => {
  it.each([...SUPERVISOR_EVENTS, { kind: 'postfix-line', line: POSTFIX_WARNING } as const].map((event) => [event.kind, event] as const))(
    'writes %s as one line of valid JSON with time, level, program and message',
    (_kind, event) => {
      const text = formatLogLine(event, 'json', NOW);
      expect(text).not.toContain('\n');
      const parsed = JSON.parse(text) as JsonLine;
      expect(parsed.time).toBe('2026-12-03T17:00:00.123Z');
      expect(['info', 'warning', 'error']).toContain(parsed.level);
      expect(typeof parsed.program).toBe('string');
      expect(typeof parsed.message).toBe('string');
    },
  );

  it('splits a postfix line into program, level and message', () => {
    expect(json({ kind: 'postfix-line', line: POSTFIX_WARNING })).toEqual({
      time: '2026-12-03T17:00:00.123Z',
      level: 'warning',
      program: 'postfix/smtp',
      message: 'warning: foo',
    });
  });

  it.each([
    ['Dec 03 17:00:00 relay postfix/smtpd[7]: connect from localhost[127.0.0.1]', 'postfix/smtpd', 'info'],
    ['Dec 13 17:00:00 relay postfix/postfix-script[95]: starting the Postfix mail system', 'postfix/postfix-script', 'info'],
    ['Dec  3 17:00:00 relay postfix/qmgr[9]: error: open database /etc/postfix/x.db', 'postfix/qmgr', 'error'],
    ['Dec  3 17:00:00 relay postfix/master[1]: fatal: bind 0.0.0.0 port 25: Address in use', 'postfix/master', 'error'],
    ['Dec  3 17:00:00 relay postfix/smtp[42]: panic: oops', 'postfix/smtp', 'error'],
    ['Dec  3 17:00:00 relay postfix/smtp[42]: A1B2C3: to=<x@example.com>, status=sent (250 2.0.0 OK)', 'postfix/smtp', 'info'],
    ['Dec  3 17:00:00 relay postfix/smtp[42]: A1B2C3: host said: warning: not at the start', 'postfix/smtp', 'info'],
  ])('reads %j as program %s, level %s', (line, program, level) => {
    const parsed = json({ kind: 'postfix-line', line });
    expect(parsed.program).toBe(program);
    expect(parsed.level).toBe(level);
    expect(line.endsWith(parsed.message)).toBe(true);
  });

  it('keeps a line it cannot parse whole, as program "postfix"', () => {
    expect(json({ kind: 'postfix-line', line: 'postsuper: fatal: something odd' })).toMatchObject({
      program: 'postfix',
      level: 'info',
      message: 'postsuper: fatal: something odd',
    });
  });

  it('uses program "gmail-relay" and the event level for supervisor events', () => {
    expect(json({ kind: 'starting', command: 'run' })).toMatchObject({ program: 'gmail-relay', level: 'info', message: 'starting (run)' });
    expect(json({ kind: 'warning', message: 'careful' })).toMatchObject({ program: 'gmail-relay', level: 'warning', message: 'careful' });
    expect(json({ kind: 'fatal', message: 'boom' })).toMatchObject({ program: 'gmail-relay', level: 'error', message: 'boom' });
  });

  it('adds the summary fields and the problems as data', () => {
    expect(json({ kind: 'config-summary', summary: { relay: '[smtp.gmail.com]:587' } })).toMatchObject({ relay: '[smtp.gmail.com]:587' });
    const problems = [{ variable: 'GMAIL_USER', message: 'is required' }];
    expect(json({ kind: 'config-invalid', problems })).toMatchObject({ level: 'error', problems });
  });
});

describe('secretForms', () => {
  it('lists the password raw and base64-encoded as AUTH PLAIN and AUTH LOGIN send it', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    expect(secretForms('someone@gmail.com', 'abcdefghijklmnop').slice(0, 4)).toEqual([
      'abcdefghijklmnop',
      b64('abcdefghijklmnop'),
      b64('\0someone@gmail.com\0abcdefghijklmnop'),
      b64('someone@gmail.com\0someone@gmail.com\0abcdefghijklmnop'),
    ]);
  });

  it('also lists what encodes the password inside a longer base64 stream, at each byte offset', () => {
    const forms = secretForms('u@example.com', 'abcdefghijklmnop');
    for (const prefix of ['', 'x', 'xy', 'AUTH data: ']) {
      const stream = Buffer.from(`${prefix}abcdefghijklmnop and more`).toString('base64');
      expect(forms.some((form) => form !== 'abcdefghijklmnop' && stream.includes(form))).toBe(true);
    }
  });

  it('leaves a short raw password unmasked (masking every "mail" would mangle the log and reveal it), not its base64 forms', () => {
    const forms = secretForms('u', 'mail');
    expect(forms).not.toContain('mail');
    expect(forms).toContain(Buffer.from('mail').toString('base64'));
  });
});

describe('createLogger', () => {
  const USER = 'someone@gmail.com';
  const PASS = 'S3cr3t-p@ss';
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  function capture(format: LogFormat, pass = PASS): { lines: string[]; log: ReturnType<typeof createLogger> } {
    const lines: string[] = [];
    const log = createLogger((line) => lines.push(line), () => format, () => secretForms(USER, pass));
    return { lines, log };
  }

  const leakingEvents = (pass: string): LogEvent[] => [
    { kind: 'postfix-line', line: `Dec  3 17:00:00 host postfix/smtp[42]: warning: password ${pass} rejected` },
    { kind: 'postfix-line', line: `Dec  3 17:00:00 host postfix/smtp[42]: AUTH PLAIN ${b64(`\0${USER}\0${pass}`)}` },
    { kind: 'postfix-line', line: `Dec  3 17:00:00 host postfix/smtp[42]: AUTH PLAIN ${b64(`${USER}\0${USER}\0${pass}`)}` },
    { kind: 'postfix-line', line: `Dec  3 17:00:00 host postfix/smtp[42]: AUTH LOGIN ${b64(pass)}` },
    { kind: 'warning', message: `odd value ${pass}${pass}` },
    { kind: 'fatal', message: `failed with ${pass}` },
    { kind: 'config-summary', summary: { auth: USER, oops: pass } },
    { kind: 'config-invalid', problems: [{ variable: 'X', message: `is ${pass}` }] },
  ];

  it.each(['plain', 'json'] as const)('redacts the password and its base64 forms from every %s line', (format) => {
    const { lines, log } = capture(format);
    for (const event of leakingEvents(PASS)) log(event);
    expect(lines).toHaveLength(leakingEvents(PASS).length);
    for (const line of lines) {
      for (const form of secretForms(USER, PASS)) expect(line).not.toContain(form);
      expect(line).not.toContain('S3cr3t');
      expect(line).toContain('********');
      expect(line.endsWith('\n')).toBe(true);
    }
  });

  it('keeps the rest of the line', () => {
    const { lines, log } = capture('plain');
    log({ kind: 'postfix-line', line: `Dec  3 17:00:00 host postfix/smtp[42]: warning: password ${PASS} rejected` });
    expect(lines).toEqual(['Dec  3 17:00:00 host postfix/smtp[42]: warning: password ******** rejected\n']);
  });

  it('reads the format and the secrets at every line (they are known only after loadConfig)', () => {
    const lines: string[] = [];
    let format: LogFormat = 'plain';
    let secrets: string[] = [];
    const log = createLogger((line) => lines.push(line), () => format, () => secrets);
    log({ kind: 'warning', message: `a ${PASS}` });
    format = 'json';
    secrets = secretForms(USER, PASS);
    log({ kind: 'warning', message: `b ${PASS}` });
    expect(lines[0]).toBe(`gmail-relay: warning: a ${PASS}\n`);
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({ message: 'b ********' });
  });

  it('leaves lines alone when there are no secrets', () => {
    expect(redact('nothing to hide', [])).toBe('nothing to hide');
  });

  // JSON.stringify escapes " \ and control characters: the escaped form must be redacted too.
  it.each(['pa"ss-word', 'pa\\ss-word', 'pa\tss-word'])('redacts a password with JSON-escaped characters (%j) in json lines', (pass) => {
    const { lines, log } = capture('json', pass);
    log({ kind: 'postfix-line', line: `Dec  3 17:00:00 host postfix/smtp[42]: warning: password ${pass} rejected` });
    const parsed = JSON.parse(lines[0] ?? '') as JsonLine;
    expect(parsed.message).not.toContain(pass);
    expect(lines[0]).not.toContain('ss-word');
  });
});
