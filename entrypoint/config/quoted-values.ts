import { ENV, PASSWORD_VARIABLES } from './env-names.js';
import type { Env } from './resolve-secret-files.js';

const KNOWN_VARIABLES = new Set<string>(Object.values(ENV));

/** `FOO="bar"` in a compose list form keeps the quotes; warn, naming only the variable. */
export function findQuotedValues(env: Env): string[] {
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !(KNOWN_VARIABLES.has(name) || name.startsWith('POSTFIX_'))) continue;
    if (/^(".*"|'.*')$/s.test(value) && value.length >= 2) {
      const shown = PASSWORD_VARIABLES.includes(name) ? 'its value' : value;
      warnings.push(`${name}: ${shown} is wrapped in quote characters, which are kept as part of the value (a compose quoting mistake?)`);
    }
  }
  return warnings;
}
