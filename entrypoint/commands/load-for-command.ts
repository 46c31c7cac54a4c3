import type { Config } from '../config/config.js';
import { ConfigError, formatProblem } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import type { Runtime } from './runtime.js';

/** For one-shot commands: the config, or undefined after printing every problem (exit 2). Warnings go to stderr. */
export function loadConfigForCommand(runtime: Runtime): Config | undefined {
  try {
    const { config, warnings } = loadConfig(runtime.env, runtime.facts, runtime.readTextFile);
    warnings.forEach((warning) => runtime.writeStderr(`warning: ${warning}\n`));
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    runtime.writeStderr(`gmail-relay: invalid configuration:\n${error.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
    return undefined;
  }
}
