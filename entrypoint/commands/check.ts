import { checkRelay } from '../preflight/check-relay.js';
import { loadConfigForCommand } from './load-for-command.js';
import { EXIT_BAD_CONFIG, EXIT_FAILURE, EXIT_OK, type Runtime } from './runtime.js';

/** Logs in to the relay as Postfix would (TLS, certificate, AUTH) and quits; no mail is sent. */
export async function checkCommand(runtime: Runtime): Promise<number> {
  const config = loadConfigForCommand(runtime);
  if (config === undefined) return EXIT_BAD_CONFIG;
  const result = await checkRelay(config, { readTextFile: runtime.readTextFile });
  if (result.ok) {
    runtime.writeStdout(`relay check passed: ${result.detail}\n`);
    return EXIT_OK;
  }
  runtime.writeStderr(`relay check failed: ${result.message}\n`);
  return EXIT_FAILURE;
}
