import type { LogLevel } from './log-event.js';

export interface PostfixDelivery {
  readonly recipient: string;
  /** "smtp.gmail.com[142.250.1.108]:587", or "none" when no server was reached. */
  readonly relay: string;
  readonly delay: number;
  readonly dsn: string;
  readonly status: 'sent' | 'deferred' | 'bounced' | 'expired' | (string & {});
  /** The text in parentheses after status=, e.g. "250 2.0.0 OK ... - gsmtp". */
  readonly reply?: string;
}

export interface PostfixLine {
  /** "postfix/smtp", or "postfix" when the line has no recognisable program. */
  readonly program: string;
  readonly pid?: number;
  readonly level: LogLevel;
  /** The text after "program[pid]: ", or the whole line when unparseable. */
  readonly message: string;
  readonly queueId?: string;
  readonly delivery?: PostfixDelivery;
  /** qmgr's "from=<...>, status=expired, returned to sender": a whole message given up on. */
  readonly expired?: { readonly sender: string };
}

// Three timestamp forms: syslog "Dec  3", postlogd (maillog_file) "Dec 03", rsyslog RFC 3339.
const TIMESTAMP = String.raw`(?:\w{3} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d))`;
const WITH_HEADER = new RegExp(String.raw`^${TIMESTAMP} \S+ ([\w/.-]+)(?:\[(\d+)\])?: (.*)$`);
// postlog(1) writing to stderr has no timestamp or host: "postfix/postlog: starting the Postfix mail system".
const WITHOUT_HEADER = /^((?:[\w.-]+\/[\w.-]+)|postfix[\w.-]*)(?:\[(\d+)\])?: (.*)$/;

// mail_queue.h: short ids are upper-case hex (usec + inode); long ids (enable_long_queue_ids) are
// base-52 seconds+usec (10+ chars), 'z', base-51 inode, in an alphabet without vowels.
const SHORT_QUEUE_ID = '[0-9A-F]{6,}';
const LONG_QUEUE_ID = '[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]+';
const QUEUE_ID_PREFIX = new RegExp(`^(${LONG_QUEUE_ID}|${SHORT_QUEUE_ID}): (.*)$`);

// smtp(8)/qmgr(8) delivery record: to=<..>, [orig_to=<..>,] relay=.., [conn_use=..,] delay=.., delays=.., dsn=.., status=.. (reply)
const DELIVERY = /^to=<(.*?)>, (?:orig_to=<.*?>, )?relay=(\S+?), (?:conn_use=\d+, )?delay=([\d.]+), delays=[\d./]+, dsn=([\d.]+), status=(\w+)(?: \((.*)\))?$/;
const EXPIRED = /^from=<(.*?)>, status=expired\b/;

function levelOf(message: string): LogLevel {
  if (/^(fatal|panic|error):/.test(message)) return 'error';
  return message.startsWith('warning:') ? 'warning' : 'info';
}

function deliveryOf(body: string): PostfixDelivery | undefined {
  const match = DELIVERY.exec(body);
  if (!match) return undefined;
  const [, recipient = '', relay = '', delay = '0', dsn = '', status = '', reply] = match;
  return { recipient, relay, delay: Number(delay), dsn, status, ...(reply === undefined ? {} : { reply }) };
}

/** One maillog line → program, level, queue id and, for delivery records, the outcome. Never throws. */
export function parsePostfixLine(line: string): PostfixLine {
  const header = WITH_HEADER.exec(line) ?? WITHOUT_HEADER.exec(line);
  if (!header) return { program: 'postfix', level: levelOf(line), message: line };
  const [, program = 'postfix', pid, message = ''] = header;
  const base = { program, ...(pid === undefined ? {} : { pid: Number(pid) }), level: levelOf(message), message };
  const queued = QUEUE_ID_PREFIX.exec(message);
  if (!queued) return base;
  const [, queueId = '', body = ''] = queued;
  const delivery = deliveryOf(body);
  const expired = EXPIRED.exec(body);
  return {
    ...base,
    queueId,
    ...(delivery ? { delivery } : {}),
    ...(expired ? { expired: { sender: expired[1] ?? '' } } : {}),
  };
}
