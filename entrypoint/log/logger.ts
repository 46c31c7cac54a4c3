import type { LogFormat } from '../config/config.js';
import { formatLogLine } from './format-log-line.js';
import type { LogEvent } from './log-event.js';

export type Logger = (event: LogEvent) => void;

const MASK = '********';

/**
 * A raw password shorter than this is not masked: masking every "mail" or "p" in a log line mangles
 * the log and, by the gaps it leaves, gives the password away. Its base64 forms are masked still.
 */
export const MIN_MASKED_PASSWORD_LENGTH = 8;

/** Every form in which a password could show up in a log: raw, and base64 as AUTH PLAIN/LOGIN send it. */
export function secretForms(user: string, pass: string): string[] {
  if (pass === '') return [];
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  const forms = [base64(pass), base64(`\0${user}\0${pass}`), base64(`${user}\0${user}\0${pass}`)];
  if (pass.length >= MIN_MASKED_PASSWORD_LENGTH) forms.unshift(pass);
  // Wherever the password sits in a longer base64 stream, these characters encode only its bytes.
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), Buffer.from(pass, 'utf8')]).toString('base64').replace(/=+$/, '');
    const core = encoded.slice(Math.ceil((offset * 4) / 3), encoded.length - 1);
    if (core.length >= MIN_MASKED_PASSWORD_LENGTH && !forms.includes(core)) forms.push(core);
  }
  return forms;
}

/** One regular expression for all secrets, longest first so a form inside another is not half-masked. */
function compileRedaction(secrets: readonly string[]): RegExp | undefined {
  const unique = [...new Set(secrets.filter((secret) => secret !== ''))].sort((a, b) => b.length - a.length);
  if (unique.length === 0) return undefined;
  return new RegExp(unique.map((secret) => secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
}

export function redact(line: string, secrets: readonly string[]): string {
  const pattern = compileRedaction(secrets);
  return pattern ? line.replace(pattern, MASK) : line;
}

export function createLogger(write: (line: string) => void, format: () => LogFormat, secrets: () => readonly string[]): Logger {
  // Compiled once per change of secrets, not per line: the supervisor logs every Postfix line.
  let compiledFor = '';
  let pattern: RegExp | undefined;
  return (event) => {
    const current = secrets();
    const key = current.join('\0');
    if (key !== compiledFor) {
      compiledFor = key;
      // JSON lines hold the escaped form of a secret (" \ and control characters), so redact that too.
      pattern = compileRedaction(current.flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]));
    }
    const line = formatLogLine(event, format(), new Date());
    write(`${pattern ? line.replace(pattern, MASK) : line}\n`);
  };
}
