import type { LogFormat } from '../config/config.js';
import { formatLogLine } from './format-log-line.js';
import type { LogEvent } from './log-event.js';

export type Logger = (event: LogEvent) => void;

/** Every form in which a password could show up in a log: raw, and base64 as AUTH PLAIN/LOGIN send it. */
export function secretForms(user: string, pass: string): string[] {
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  return [pass, base64(pass), base64(`\0${user}\0${pass}`), base64(`${user}\0${user}\0${pass}`)].filter((form) => form.length >= 4);
}

export function redact(line: string, secrets: readonly string[]): string {
  return secrets.reduce((text, secret) => text.split(secret).join('********'), line);
}

export function createLogger(write: (line: string) => void, format: () => LogFormat, secrets: () => readonly string[]): Logger {
  return (event) => {
    // JSON lines hold the escaped form of a secret (" \ and control characters), so redact that too.
    const forms = secrets().flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]);
    write(`${redact(formatLogLine(event, format(), new Date()), forms)}\n`);
  };
}
