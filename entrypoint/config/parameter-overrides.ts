import type { ConfigProblem } from './config-error.js';
import type { ParameterOverride } from './config.js';
import { POSTFIX_OVERRIDE_PREFIX } from './env-names.js';
import type { Env } from './resolve-secret-files.js';
import { UNSAFE_CHARACTERS } from './validators.js';

/** Kubernetes service links for a Service named "postfix" (POSTFIX_SERVICE_HOST, POSTFIX_PORT_25_TCP, ...). */
const KUBERNETES_SERVICE_LINK = /^POSTFIX_(SERVICE_HOST|SERVICE_PORT(_\w+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$/;

export interface ParsedOverrides {
  readonly overrides: ParameterOverride[];
  readonly problems: ConfigProblem[];
}

/** POSTFIX_<parameter>=value → overrides, matching names case-insensitively against Postfix's own list. */
export function parseParameterOverrides(env: Env, knownParameters: ReadonlySet<string>): ParsedOverrides {
  const byLowerCase = new Map([...knownParameters].map((name) => [name.toLowerCase(), name]));
  const overrides: ParameterOverride[] = [];
  const problems: ConfigProblem[] = [];
  for (const [variable, value] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!variable.startsWith(POSTFIX_OVERRIDE_PREFIX) || value === undefined) continue;
    if (KUBERNETES_SERVICE_LINK.test(variable)) continue;
    const name = byLowerCase.get(variable.slice(POSTFIX_OVERRIDE_PREFIX.length).toLowerCase());
    if (name === undefined) {
      problems.push({ variable, message: `is not a Postfix parameter (see \`postconf -d\` for the names; e.g. POSTFIX_smtp_tls_loglevel=2)` });
    } else if (UNSAFE_CHARACTERS.test(value)) {
      problems.push({ variable, message: 'contains a line break (CR or LF) or a NUL character, which a Postfix setting cannot hold' });
    } else {
      overrides.push({ name, value });
    }
  }
  return { overrides, problems };
}
