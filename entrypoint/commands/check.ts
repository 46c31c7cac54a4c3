import type { Config } from '../config/config.js';
import { ConfigError, formatProblem } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import { checkRelay } from '../preflight/check-relay.js';
import { EXIT_BAD_CONFIG, EXIT_FAILURE, EXIT_OK, type Runtime } from './runtime.js';

/** Logs in to the relay as Postfix would (TLS, certificate, AUTH) and quits; no mail is sent. */
export async function checkCommand(runtime: Runtime): Promise<number> {
  let config: Config;
  try {
    const loaded = loadConfig(runtime.env, runtime.facts, runtime.readTextFile);
    loaded.warnings.forEach((warning) => runtime.writeStderr(`warning: ${warning}\n`));
    config = loaded.config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    runtime.writeStderr(`gmail-relay: invalid configuration:\n${error.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
    return EXIT_BAD_CONFIG;
  }
  const result = await checkRelay(config, { readTextFile: runtime.readTextFile });
  if (result.ok) {
    runtime.writeStdout(`relay check passed: ${result.detail}\n`);
    return EXIT_OK;
  }
  runtime.writeStderr(`relay check failed: ${result.message}\n`);
  return EXIT_FAILURE;
}
