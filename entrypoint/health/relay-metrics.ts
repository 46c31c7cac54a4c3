import type { PostfixLine } from '../log/parse-postfix-line.js';

export interface PreflightResult {
  readonly ok: boolean;
  readonly message: string;
  readonly at: Date;
}

/** Whether the relay last worked: what readiness and gmail_relay_relay_check_ok report. */
export interface RelayCheck {
  readonly ok: boolean;
  readonly reason: string;
  readonly at?: Date;
}

export type RelayOutcome = 'ok' | 'failed' | 'unknown';

export interface RelaySnapshot {
  readonly sent: number;
  readonly deferred: number;
  readonly bounced: number;
  readonly authFailures: number;
  readonly queueLength: number;
  readonly lastDeliveryAt: Date | undefined;
  /** 'failed' also after a deferral that says the relay is unreachable or refusing; readiness ignores those. */
  readonly lastRelayOutcome: RelayOutcome;
  readonly relayCheck: RelayCheck;
}

// master.cf services that run smtp(8); smtpd's "SASL ... authentication failed" is about clients, not Gmail.
const SMTP_CLIENT = /(?:^|\/)(?:smtp|relay)$/;
// smtp_sasl_glue.c: "SASL authentication failed; server %s said: %s" (535) or "...; cannot authenticate to server %s: %s".
const AUTH_FAILED = /SASL authentication failed/;
// With smtp_sasl_auth_cache_name, a remembered 535 fails without talking to the server: not an attempt, still a failure.
const AUTH_FAILED_CACHED = /SASL \[CACHED\] authentication failed/;
// Deferral reasons that are about reaching or being accepted by the relay, not about one recipient.
const RELAY_TROUBLE =
  /connect to |lost connection with |conversation with .* timed out|Host or domain name not found|Name service error|refused to talk to me|Cannot start TLS|TLS is required|certificate|said: 421[ -]/i;
// One attempt logs the same reason once per recipient, back to back; a retry comes minutes later.
const SAME_ATTEMPT_MS = 10_000;

const NO_CHECK: RelayCheck = { ok: false, reason: 'no relay check has run yet' };

/** Counters and relay state fed from parsed Postfix lines; rendered for /metrics and used by /readyz. */
export class RelayMetrics {
  private sent = 0;
  private deferred = 0;
  private bounced = 0;
  private authFailures = 0;
  private queueLength = 0;
  private lastDeliveryAt: Date | undefined;
  private lastRelayOutcome: RelayOutcome = 'unknown';
  private check: RelayCheck = NO_CHECK;
  private readonly recentAuthFailures = new Map<string, number>();

  observe(line: PostfixLine, now: Date): void {
    // qmgr gives up on the whole message after maximal_queue_lifetime: it is returned, like a bounce.
    if (line.expired) this.bounced += 1;
    if (!SMTP_CLIENT.test(line.program)) return;
    const text = line.delivery?.reply ?? line.message;
    if (AUTH_FAILED.test(text)) this.recordAuthFailure(`${line.pid}|${line.queueId}|${text}`, text, now);
    else if (AUTH_FAILED_CACHED.test(text)) this.recordRelayFailure(`relay authentication failed: ${text}`, now);
    const delivery = line.delivery;
    if (!delivery) return;
    if (delivery.status === 'sent') {
      this.sent += 1;
      this.lastDeliveryAt = now;
      this.lastRelayOutcome = 'ok';
      this.updateCheck({ ok: true, reason: `delivered via ${delivery.relay}`, at: now });
    } else if (delivery.status === 'deferred') {
      this.deferred += 1;
      if (RELAY_TROUBLE.test(text)) this.lastRelayOutcome = 'failed';
    } else if (delivery.status === 'bounced' || delivery.status === 'expired') this.bounced += 1;
  }

  setQueueLength(length: number): void {
    if (Number.isFinite(length) && length >= 0) this.queueLength = length;
  }

  setPreflight(result: PreflightResult): void {
    const reason = `preflight ${result.ok ? 'passed' : 'failed'}: ${result.message}`;
    this.updateCheck({ ok: result.ok, reason, at: result.at });
    this.lastRelayOutcome = result.ok ? 'ok' : 'failed';
  }

  /** Preflight passed or a later delivery succeeded, and no relay auth failure since. */
  relayCheck(): RelayCheck {
    return this.check;
  }

  snapshot(): RelaySnapshot {
    const { sent, deferred, bounced, authFailures, queueLength, lastDeliveryAt, lastRelayOutcome, check } = this;
    return { sent, deferred, bounced, authFailures, queueLength, lastDeliveryAt, lastRelayOutcome, relayCheck: check };
  }

  renderPrometheus(): string {
    const families: ReadonlyArray<readonly [name: string, type: 'counter' | 'gauge', help: string, value: number]> = [
      ['messages_sent_total', 'counter', 'Recipients delivered to the relay (status=sent).', this.sent],
      ['messages_deferred_total', 'counter', 'Recipient delivery attempts deferred (status=deferred).', this.deferred],
      ['messages_bounced_total', 'counter', 'Recipients bounced, and messages expired in the queue.', this.bounced],
      ['queue_length', 'gauge', 'Messages in the Postfix queue.', this.queueLength],
      ['relay_auth_failures_total', 'counter', 'Failed SASL authentication attempts against the relay.', this.authFailures],
      ['last_delivery_timestamp_seconds', 'gauge', 'Unix time of the last successful delivery, 0 if none.', this.lastDeliveryAt ? Math.floor(this.lastDeliveryAt.getTime() / 1000) : 0],
      ['relay_check_ok', 'gauge', '1 if the last relay check or delivery succeeded and no authentication failure followed.', this.check.ok ? 1 : 0],
      ['up', 'gauge', '1 while the entrypoint is running.', 1],
    ];
    return families
      .map(([name, type, help, value]) => `# HELP gmail_relay_${name} ${help}\n# TYPE gmail_relay_${name} ${type}\ngmail_relay_${name} ${value}\n`)
      .join('');
  }

  private recordAuthFailure(key: string, text: string, now: Date): void {
    for (const [seen, at] of this.recentAuthFailures) if (now.getTime() - at > SAME_ATTEMPT_MS) this.recentAuthFailures.delete(seen);
    if (!this.recentAuthFailures.has(key)) this.authFailures += 1;
    this.recentAuthFailures.set(key, now.getTime());
    this.recordRelayFailure(`relay authentication failed: ${text}`, now);
  }

  private recordRelayFailure(reason: string, now: Date): void {
    this.lastRelayOutcome = 'failed';
    this.updateCheck({ ok: false, reason, at: now });
  }

  // A preflight that finished before an already observed delivery must not override it.
  private updateCheck(next: RelayCheck): void {
    if (this.check.at && next.at && next.at < this.check.at) return;
    this.check = next;
  }
}
