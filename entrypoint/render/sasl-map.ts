import type { Config } from '../config/config.js';
import { relayhostOf } from './main-cf.js';
import { checkPostfixValue } from './postfix-value.js';

/** One line `[host]:port user:password`; Postfix splits the value at the first colon. */
export function renderSaslMap(config: Config): string | undefined {
  const credentials = config.relay.credentials;
  if (credentials === undefined) return undefined;
  const value = `${credentials.user}:${credentials.pass}`;
  return `${relayhostOf(config)} ${checkPostfixValue('sasl password map', value)}\n`;
}

/** The same line with the password masked, for print-config. */
export function renderMaskedSaslMap(config: Config): string | undefined {
  const credentials = config.relay.credentials;
  return credentials && `${relayhostOf(config)} ${credentials.user}:********\n`;
}
