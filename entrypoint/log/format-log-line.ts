import type { LogFormat } from '../config/config.js';
import { formatProblem } from '../config/config-error.js';
import type { LogEvent, LogLevel } from './log-event.js';
import { parsePostfixLine } from './parse-postfix-line.js';

const PROGRAM = 'gmail-relay';
/** Every JSON line has these; an event's own fields may not overwrite them. */
const RESERVED_FIELDS = new Set(['time', 'level', 'program', 'message']);

interface Entry {
  readonly level: LogLevel;
  readonly program: string;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

function describe(event: LogEvent): Entry {
  switch (event.kind) {
    case 'starting':
      return { level: 'info', program: PROGRAM, message: `starting (${event.command})` };
    case 'config-summary':
      return {
        level: 'info',
        program: PROGRAM,
        message: Object.entries(event.summary).map(([key, value]) => `${key}=${value}`).join(' '),
        fields: event.summary,
      };
    case 'warning':
      return { level: 'warning', program: PROGRAM, message: event.message };
    case 'config-invalid':
      return {
        level: 'error',
        program: PROGRAM,
        message: `invalid configuration, nothing started:\n${event.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
        fields: { problems: event.problems },
      };
    case 'postfix-line':
      return postfixEntry(event.line);
    case 'postfix-started':
      return { level: 'info', program: PROGRAM, message: `starting postfix (postfix start-fg, pid ${event.pid})` };
    case 'preflight':
      return {
        level: event.ok ? 'info' : 'warning',
        program: PROGRAM,
        message: event.ok ? `relay check passed: ${event.message}` : `relay check failed: ${event.message}; mail is accepted and queued meanwhile`,
      };
    case 'health-server':
      return { level: 'info', program: PROGRAM, message: `health server on http://${event.address} (/healthz, /readyz, /metrics)` };
    case 'spool-repaired':
      return { level: 'warning', program: PROGRAM, message: `repaired the mail spool (postfix set-permissions): ${event.directories.join(', ')}` };
    case 'reloading':
      return { level: 'info', program: PROGRAM, message: `reloading the configuration (${event.reason})` };
    case 'reloaded':
      return { level: 'info', program: PROGRAM, message: 'configuration reloaded; deferred mail is retried now' };
    case 'reload-rejected':
      return {
        level: 'error',
        program: PROGRAM,
        message: `new configuration refused, the running one stays:\n${event.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
        fields: { problems: event.problems },
      };
    case 'draining':
      return {
        level: 'info',
        program: PROGRAM,
        message: `no longer taking mail; delivering ${event.queued} queued message(s) for up to ${event.graceSeconds} s`,
      };
    case 'drained':
      return {
        level: event.remaining === 0 ? 'info' : 'warning',
        program: PROGRAM,
        message: event.remaining === 0 ? 'queue empty' : `${event.remaining} message(s) stay queued in the spool for the next start`,
      };
    case 'stopping':
      return { level: 'info', program: PROGRAM, message: `${event.signal} received: stopping postfix` };
    case 'stopped':
      return { level: 'info', program: PROGRAM, message: `stopped, exit code ${event.exitCode}` };
    case 'postfix-died':
      return {
        level: 'error',
        program: PROGRAM,
        message: `postfix exited unexpectedly (${event.signal ? `signal ${event.signal}` : `code ${event.code}`}); exiting so the container is restarted`,
      };
    case 'fatal':
      return { level: 'error', program: PROGRAM, message: event.message };
  }
}

/** A Postfix line as program, level and message; deliveries also as fields, for JSON consumers. */
function postfixEntry(line: string): Entry {
  const { program, level: parsedLevel, message, queueId, delivery } = parsePostfixLine(line);
  // A delivery that did not succeed is what an operator filtering on level wants to see.
  const level: LogLevel = delivery && delivery.status !== 'sent' && parsedLevel === 'info' ? 'warning' : parsedLevel;
  const fields = {
    ...(queueId !== undefined ? { queue_id: queueId } : {}),
    ...(delivery !== undefined
      ? { recipient: delivery.recipient, relay: delivery.relay, delay: delivery.delay, dsn: delivery.dsn, status: delivery.status, reply: delivery.reply }
      : {}),
  };
  return { level, program, message, fields };
}

export function formatLogLine(event: LogEvent, format: LogFormat, now: Date): string {
  if (format === 'plain') {
    if (event.kind === 'postfix-line') return event.line;
    const entry = describe(event);
    return `${PROGRAM}: ${entry.level === 'info' ? '' : `${entry.level}: `}${entry.message}`;
  }
  const { level, program, message, fields } = describe(event);
  const extra = Object.fromEntries(Object.entries(fields ?? {}).filter(([key]) => !RESERVED_FIELDS.has(key)));
  return JSON.stringify({ time: now.toISOString(), level, program, message, ...extra });
}
