import { describe, expect, it } from 'vitest';
import { parsePostfixLine } from '../../entrypoint/log/parse-postfix-line.js';

const GMAIL = 'smtp.gmail.com[142.250.102.108]:587';

describe('parsePostfixLine deliveries', () => {
  it.each([
    ['postlogd, zero-padded day', 'Dec 03 17:01:44'],
    ['syslog, space-padded day', 'Dec  3 17:01:44'],
    ['rsyslog RFC 3339', '2026-12-03T17:01:44.123456+00:00'],
  ])('reads a sent record with a %s timestamp', (_form, timestamp) => {
    const line = `${timestamp} vm postfix/smtp[272]: 4ABC123DEF: to=<someone@example.org>, relay=smtp.gmail.com[127.1.2.3]:587, delay=0.23, delays=0.01/0.01/0.15/0.06, dsn=2.0.0, status=sent (250 2.0.0 OK  1733245304 fake-1 - gsmtp)`;
    expect(parsePostfixLine(line)).toEqual({
      program: 'postfix/smtp',
      pid: 272,
      level: 'info',
      message: '4ABC123DEF: to=<someone@example.org>, relay=smtp.gmail.com[127.1.2.3]:587, delay=0.23, delays=0.01/0.01/0.15/0.06, dsn=2.0.0, status=sent (250 2.0.0 OK  1733245304 fake-1 - gsmtp)',
      queueId: '4ABC123DEF',
      delivery: {
        recipient: 'someone@example.org',
        relay: 'smtp.gmail.com[127.1.2.3]:587',
        delay: 0.23,
        dsn: '2.0.0',
        status: 'sent',
        reply: '250 2.0.0 OK  1733245304 fake-1 - gsmtp',
      },
    });
  });

  it('reads a deferral when the relay refuses the connection', () => {
    const parsed = parsePostfixLine(
      'Dec  3 17:02:10 vm postfix/smtp[273]: 5BCD234EF0: to=<someone@example.org>, relay=none, delay=30, delays=0.02/0/30/0, dsn=4.4.1, status=deferred (connect to smtp.gmail.com[142.250.102.108]:587: Connection refused)',
    );
    expect(parsed.queueId).toBe('5BCD234EF0');
    expect(parsed.delivery).toEqual({
      recipient: 'someone@example.org',
      relay: 'none',
      delay: 30,
      dsn: '4.4.1',
      status: 'deferred',
      reply: `connect to ${GMAIL}: Connection refused`,
    });
  });

  it('keeps nested parentheses inside a bounce reply', () => {
    const reply = `host smtp.gmail.com[142.250.102.108] said: 550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to 5.4.5  https://support.google.com/a/answer/166852 d2-20020a05 - gsmtp (in reply to end of DATA command)`;
    const parsed = parsePostfixLine(`Dec 03 17:03:00 vm postfix/smtp[274]: 6CDE345F01: to=<nobody@example.org>, relay=${GMAIL}, delay=1.2, delays=0.01/0.01/0.6/0.58, dsn=5.4.5, status=bounced (${reply})`);
    expect(parsed.delivery).toEqual({ recipient: 'nobody@example.org', relay: GMAIL, delay: 1.2, dsn: '5.4.5', status: 'bounced', reply });
  });

  it('reads a deferral after a rejected SASL login', () => {
    const reply = `SASL authentication failed; server smtp.gmail.com[142.250.102.108] said: 535-5.7.8 Username and Password not accepted. For more information, go to 535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1-20020a05 - gsmtp`;
    const parsed = parsePostfixLine(`Dec 03 17:04:00 vm postfix/smtp[275]: 7DEF456012: to=<someone@example.org>, relay=${GMAIL}, delay=0.9, delays=0.01/0.01/0.88/0, dsn=4.7.8, status=deferred (${reply})`);
    expect(parsed).toMatchObject({ program: 'postfix/smtp', pid: 275, level: 'info', queueId: '7DEF456012' });
    expect(parsed.delivery).toMatchObject({ status: 'deferred', dsn: '4.7.8', reply });
  });

  it('skips orig_to and conn_use', () => {
    const parsed = parsePostfixLine(
      `Dec 03 17:04:30 vm postfix/smtp[275]: 7DEF456013: to=<someone@example.org>, orig_to=<alias@localhost>, relay=${GMAIL}, conn_use=2, delay=0.4, delays=0/0/0/0.4, dsn=2.0.0, status=sent (250 2.0.0 OK)`,
    );
    expect(parsed.delivery).toMatchObject({ recipient: 'someone@example.org', relay: GMAIL, delay: 0.4, status: 'sent', reply: '250 2.0.0 OK' });
  });

  it('reads the qmgr record of an expired message', () => {
    const parsed = parsePostfixLine('Dec 03 17:08:00 vm postfix/qmgr[103]: 8EF0567123: from=<app@example.org>, status=expired, returned to sender');
    expect(parsed).toMatchObject({ program: 'postfix/qmgr', queueId: '8EF0567123', expired: { sender: 'app@example.org' } });
    expect(parsed.delivery).toBeUndefined();
  });
});

describe('parsePostfixLine queue ids', () => {
  it.each([
    // enable_long_queue_ids: base-52 time (10 chars), 'z', base-51 inode; no vowels.
    ['4Y8Gm02hY5zJqkL', 'Dec 03 17:07:00 vm postfix/qmgr[103]: 4Y8Gm02hY5zJqkL: from=<app@example.org>, size=512, nrcpt=1 (queue active)'],
    ['4TfJbM3xKGz2Wq', `Dec 03 17:07:01 vm postfix/smtp[104]: 4TfJbM3xKGz2Wq: to=<a@example.org>, relay=${GMAIL}, delay=0.5, delays=0/0/0.2/0.3, dsn=2.0.0, status=sent (250 2.0.0 OK)`],
    ['3F2A1B', 'Dec 03 17:07:02 vm postfix/cleanup[105]: 3F2A1B: message-id=<1@example.org>'],
    ['C0FFEE12345', 'Dec 03 17:07:03 vm postfix/qmgr[103]: C0FFEE12345: removed'],
  ])('recognises %s', (queueId, line) => {
    expect(parsePostfixLine(line).queueId).toBe(queueId);
  });

  it.each([
    'Dec 03 17:07:04 vm postfix/smtpd[300]: NOQUEUE: reject: RCPT from unknown[10.0.0.9]: 554 5.7.1 <x@example.org>: Relay access denied; from=<a@example.org> to=<x@example.org> proto=ESMTP helo=<c>',
    'Dec 03 17:07:05 vm postfix/smtpd[300]: connect from localhost[127.0.0.1]',
    'Dec 03 17:07:06 vm postfix/smtp[301]: warning: SASL authentication failure: No worthy mechs found',
    // Vowels never occur in long ids: a word ending in "z..." is not one.
    'Dec 03 17:07:07 vm postfix/smtp[301]: characterization: whatever',
  ])('finds no queue id in %j', (line) => {
    expect(parsePostfixLine(line).queueId).toBeUndefined();
  });
});

describe('parsePostfixLine levels and programs', () => {
  it.each([
    ['Dec 03 17:05:00 vm postfix/smtp[275]: warning: SASL authentication failure: No worthy mechs found', 'postfix/smtp', 275, 'warning'],
    ['Dec 03 17:06:00 vm postfix/master[1]: fatal: bind 0.0.0.0 port 25: Address already in use', 'postfix/master', 1, 'error'],
    ['Dec 03 17:06:01 vm postfix/smtpd[9]: panic: myfree: corrupt or unallocated memory block', 'postfix/smtpd', 9, 'error'],
    ['Dec 03 17:06:02 vm postfix/postqueue[10]: error: unsupported option', 'postfix/postqueue', 10, 'error'],
    ['Dec 03 17:00:01 vm postfix/master[101]: daemon started -- version 3.9.1, configuration /etc/postfix', 'postfix/master', 101, 'info'],
    ['Dec 03 17:00:00 vm postfix/postfix-script[95]: starting the Postfix mail system', 'postfix/postfix-script', 95, 'info'],
    ['Dec  3 17:09:00 vm postfix/postfix-script[410]: stopping the Postfix mail system', 'postfix/postfix-script', 410, 'info'],
    ['Dec 03 17:09:01 vm postfix/postfix-script[411]: warning: not owned by postfix: /var/spool/postfix/maildrop', 'postfix/postfix-script', 411, 'warning'],
  ] as const)('%s', (line, program, pid, level) => {
    const parsed = parsePostfixLine(line);
    expect(parsed).toMatchObject({ program, pid, level });
    expect(line.endsWith(`]: ${parsed.message}`)).toBe(true);
  });

  it('reads postlog lines written to stderr, without timestamp or pid', () => {
    expect(parsePostfixLine('postfix/postlog: starting the Postfix mail system')).toEqual({
      program: 'postfix/postlog',
      level: 'info',
      message: 'starting the Postfix mail system',
    });
    expect(parsePostfixLine('postfix/postlog: fatal: the Postfix mail system is already running')).toMatchObject({ program: 'postfix/postlog', level: 'error' });
    expect(parsePostfixLine('postfix[77]: warning: symlink leaves directory')).toMatchObject({ program: 'postfix', pid: 77, level: 'warning' });
  });

  it.each([
    ['not a syslog line at all', 'info'],
    ['', 'info'],
    ['fatal: something went wrong', 'error'],
    ['sh: 1: something: not found', 'info'],
  ] as const)('falls back to program "postfix" for %j', (line, level) => {
    expect(parsePostfixLine(line)).toEqual({ program: 'postfix', level, message: line });
  });
});
