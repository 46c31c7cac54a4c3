import { describe, expect, it } from 'vitest';
import { RelayMetrics } from '../../entrypoint/health/relay-metrics.js';
import { parsePostfixLine } from '../../entrypoint/log/parse-postfix-line.js';

const T0 = new Date('2026-12-03T17:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const GMAIL = 'smtp.gmail.com[142.250.102.108]:587';
const AUTH_REPLY = `SASL authentication failed; server smtp.gmail.com[142.250.102.108] said: 535-5.7.8 Username and Password not accepted. For more information, go to 535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1-20020a05 - gsmtp`;

function delivery(pid: number, queueId: string, status: string, dsn: string, reply: string, program = 'postfix/smtp'): string {
  return `Dec 03 17:00:00 vm ${program}[${pid}]: ${queueId}: to=<someone@example.org>, relay=${GMAIL}, delay=0.5, delays=0.01/0.01/0.2/0.28, dsn=${dsn}, status=${status} (${reply})`;
}
const sent = (pid: number, queueId: string) => delivery(pid, queueId, 'sent', '2.0.0', '250 2.0.0 OK  1733245304 fake-1 - gsmtp');
const authFailed = (pid: number, queueId: string) => delivery(pid, queueId, 'deferred', '4.7.8', AUTH_REPLY);

function feed(metrics: RelayMetrics, lines: ReadonlyArray<readonly [seconds: number, line: string]>): RelayMetrics {
  for (const [seconds, line] of lines) metrics.observe(parsePostfixLine(line), at(seconds));
  return metrics;
}

describe('RelayMetrics', () => {
  it('counts known traffic exactly', () => {
    const metrics = feed(new RelayMetrics(), [
      [1, sent(272, '4ABC123DEF')],
      [2, sent(272, '4ABC123DF0')],
      [3, delivery(273, '5BCD234EF0', 'deferred', '4.4.1', `connect to ${GMAIL}: Connection refused`)],
      [4, delivery(274, '6CDE345F01', 'bounced', '5.4.5', `host ${GMAIL} said: 550 5.4.5 Daily user sending limit exceeded. - gsmtp (in reply to end of DATA command)`)],
      [5, 'Dec 03 17:00:05 vm postfix/qmgr[103]: 8EF0567123: from=<app@example.org>, status=expired, returned to sender'],
      // One attempt, two recipients: two lines with the same reason, one failure.
      [6, 'Dec 03 17:00:06 vm postfix/smtp[275]: warning: SASL authentication failure: Password verification failed'],
      [6, authFailed(275, '7DEF456012')],
      [6, authFailed(275, '7DEF456012')],
      // A non-final server of the same destination failing first is a separate attempt (smtp_trouble.c logs it as info).
      [7, `Dec 03 17:00:07 vm postfix/smtp[276]: 7DEF456013: ${AUTH_REPLY.replace('142.250.102.108', '142.250.102.109')}`],
      [7, authFailed(276, '7DEF456013')],
      // The retry of the first message minutes later is a new attempt.
      [300, authFailed(275, '7DEF456012')],
      // Client-side SASL failures on the listener are not about the relay.
      [301, 'Dec 03 17:05:01 vm postfix/smtpd[300]: warning: unknown[10.0.0.9]: SASL PLAIN authentication failed: authentication failure'],
      // The relay transport runs smtp(8) too.
      [302, sent(277, '9F01678234').replace('postfix/smtp[', 'postfix/relay[')],
      // Local recipients end at the error transport: not relay traffic.
      [303, delivery(278, 'A012789345', 'bounced', '5.0.0', 'local delivery is disabled in gmail-relay', 'postfix/error')],
    ]);
    expect(metrics.snapshot()).toEqual({
      sent: 3,
      deferred: 5,
      bounced: 2,
      authFailures: 4,
      queueLength: 0,
      lastDeliveryAt: at(302),
      lastRelayOutcome: 'ok',
      relayCheck: { ok: true, reason: `delivered via ${GMAIL}`, at: at(302) },
    });
  });

  it('renders the Prometheus text exposition format', () => {
    const metrics = feed(new RelayMetrics(), [
      [1, sent(272, '4ABC123DEF')],
      [2, delivery(273, '5BCD234EF0', 'deferred', '4.4.1', `connect to ${GMAIL}: Connection refused`)],
      [3, authFailed(275, '7DEF456012')],
    ]);
    metrics.setQueueLength(2);
    expect(metrics.renderPrometheus()).toBe(
      [
        '# HELP gmail_relay_messages_sent_total Recipients delivered to the relay (status=sent).',
        '# TYPE gmail_relay_messages_sent_total counter',
        'gmail_relay_messages_sent_total 1',
        '# HELP gmail_relay_messages_deferred_total Recipient delivery attempts deferred (status=deferred).',
        '# TYPE gmail_relay_messages_deferred_total counter',
        'gmail_relay_messages_deferred_total 2',
        '# HELP gmail_relay_messages_bounced_total Recipients bounced, and messages expired in the queue.',
        '# TYPE gmail_relay_messages_bounced_total counter',
        'gmail_relay_messages_bounced_total 0',
        '# HELP gmail_relay_queue_length Messages in the Postfix queue.',
        '# TYPE gmail_relay_queue_length gauge',
        'gmail_relay_queue_length 2',
        '# HELP gmail_relay_relay_auth_failures_total Failed SASL authentication attempts against the relay.',
        '# TYPE gmail_relay_relay_auth_failures_total counter',
        'gmail_relay_relay_auth_failures_total 1',
        '# HELP gmail_relay_last_delivery_timestamp_seconds Unix time of the last successful delivery, 0 if none.',
        '# TYPE gmail_relay_last_delivery_timestamp_seconds gauge',
        `gmail_relay_last_delivery_timestamp_seconds ${T0.getTime() / 1000 + 1}`,
        '# HELP gmail_relay_relay_check_ok 1 if the last relay check or delivery succeeded and no authentication failure followed.',
        '# TYPE gmail_relay_relay_check_ok gauge',
        'gmail_relay_relay_check_ok 0',
        '# HELP gmail_relay_up 1 while the entrypoint is running.',
        '# TYPE gmail_relay_up gauge',
        'gmail_relay_up 1',
        '',
      ].join('\n'),
    );
  });

  it('starts with nothing delivered and no relay check', () => {
    const metrics = new RelayMetrics();
    expect(metrics.renderPrometheus()).toMatch(/^gmail_relay_last_delivery_timestamp_seconds 0$/m);
    expect(metrics.renderPrometheus()).toMatch(/^gmail_relay_relay_check_ok 0$/m);
    expect(metrics.snapshot().lastRelayOutcome).toBe('unknown');
    expect(metrics.relayCheck()).toEqual({ ok: false, reason: 'no relay check has run yet' });
  });

  it('follows preflight, auth failure and the next success in time order', () => {
    const metrics = new RelayMetrics();
    metrics.setPreflight({ ok: true, message: 'authenticated to smtp.gmail.com:587', at: at(0) });
    expect(metrics.relayCheck()).toMatchObject({ ok: true, reason: 'preflight passed: authenticated to smtp.gmail.com:587' });
    feed(metrics, [[10, authFailed(275, '7DEF456012')]]);
    expect(metrics.relayCheck()).toMatchObject({ ok: false, reason: `relay authentication failed: ${AUTH_REPLY}` });
    expect(metrics.snapshot().lastRelayOutcome).toBe('failed');
    // A preflight that finished before the failure does not hide it.
    metrics.setPreflight({ ok: true, message: 'stale', at: at(5) });
    expect(metrics.relayCheck().ok).toBe(false);
    feed(metrics, [[20, sent(272, '4ABC123DEF')]]);
    expect(metrics.relayCheck()).toMatchObject({ ok: true, at: at(20) });
  });

  it('marks the relay failed after an unreachable deferral, but keeps the relay check', () => {
    const metrics = new RelayMetrics();
    metrics.setPreflight({ ok: true, message: 'ok', at: at(0) });
    feed(metrics, [[1, delivery(273, '5BCD234EF0', 'deferred', '4.4.1', `connect to ${GMAIL}: Connection timed out`)]]);
    expect(metrics.snapshot()).toMatchObject({ deferred: 1, lastRelayOutcome: 'failed', relayCheck: { ok: true } });
    // A recipient-specific deferral says nothing about the relay.
    feed(metrics, [[2, sent(272, '4ABC123DEF')], [3, delivery(274, '6CDE345F02', 'deferred', '4.2.1', `host ${GMAIL} said: 450 4.2.1 The user you are trying to contact is receiving mail too quickly. - gsmtp (in reply to RCPT TO command)`)]]);
    expect(metrics.snapshot()).toMatchObject({ deferred: 2, lastRelayOutcome: 'ok' });
  });

  it('treats a cached 535 as a failure without counting an attempt', () => {
    const metrics = new RelayMetrics();
    feed(metrics, [[1, delivery(275, '7DEF456012', 'deferred', '4.7.8', 'SASL [CACHED] authentication failed; server smtp.gmail.com said: 535 5.7.8 Username and Password not accepted')]]);
    expect(metrics.snapshot()).toMatchObject({ authFailures: 0, deferred: 1, lastRelayOutcome: 'failed', relayCheck: { ok: false } });
  });

  it('ignores a nonsensical queue length', () => {
    const metrics = new RelayMetrics();
    metrics.setQueueLength(3);
    metrics.setQueueLength(Number.NaN);
    metrics.setQueueLength(-1);
    expect(metrics.snapshot().queueLength).toBe(3);
  });
});
