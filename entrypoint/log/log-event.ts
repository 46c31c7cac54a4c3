import type { ConfigProblem } from '../config/config-error.js';

/** Everything the supervisor says, as data; formatted in one place (format-log-line.ts). */
export type LogEvent =
  | { readonly kind: 'starting'; readonly command: string }
  | { readonly kind: 'config-summary'; readonly summary: Readonly<Record<string, string>> }
  | { readonly kind: 'warning'; readonly message: string }
  | { readonly kind: 'config-invalid'; readonly problems: readonly ConfigProblem[] }
  | { readonly kind: 'postfix-line'; readonly line: string }
  | { readonly kind: 'postfix-started'; readonly pid: number }
  | { readonly kind: 'preflight'; readonly ok: boolean; readonly message: string }
  | { readonly kind: 'health-server'; readonly address: string }
  | { readonly kind: 'spool-repaired'; readonly directories: readonly string[] }
  | { readonly kind: 'reloading'; readonly reason: string }
  | { readonly kind: 'reloaded' }
  | { readonly kind: 'reload-rejected'; readonly problems: readonly ConfigProblem[] }
  | { readonly kind: 'stopping'; readonly signal: string }
  | { readonly kind: 'draining'; readonly queued: number; readonly graceSeconds: number }
  | { readonly kind: 'drained'; readonly remaining: number }
  | { readonly kind: 'stopped'; readonly exitCode: number }
  | { readonly kind: 'postfix-died'; readonly code: number | null; readonly signal: string | null }
  | { readonly kind: 'fatal'; readonly message: string };

export type LogLevel = 'info' | 'warning' | 'error';
