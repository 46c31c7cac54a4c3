import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import type { LogFormat } from '../config/config.js';
import { createLogger, secretForms } from '../log/logger.js';
import { installConfig } from '../postfix/install-config.js';
import { openMaillogPipe } from '../postfix/maillog-pipe.js';
import { PostfixSupervisor } from '../postfix/supervisor.js';
import { relayhostOf } from '../render/main-cf.js';
import { MAILLOG_PIPE_PATH, POSTFIX_CONFIG_DIR, SASL_MAP_PATH, SASL_MAP_TYPE } from '../render/paths.js';
import { renderAll } from './render-all.js';
import { EXIT_BAD_CONFIG, EXIT_FAILURE, EXIT_OK, type Runtime } from './runtime.js';

/** The default command: configure Postfix, run it in the foreground, stop it cleanly on a signal. */
export async function runRelay(runtime: Runtime): Promise<number> {
  let format: LogFormat = runtime.env['LOG_FORMAT'] === 'json' ? 'json' : 'plain';
  let secrets: string[] = [];
  const log = createLogger(runtime.writeStdout, () => format, () => secrets);
  log({ kind: 'starting', command: 'run' });
  // Handlers go in first: a stop during configuration must not kill us halfway through a write.
  let stopSignal: NodeJS.Signals | undefined;
  let supervisor: PostfixSupervisor | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    runtime.onSignal(signal, () => {
      stopSignal = signal;
      log({ kind: 'stopping', signal });
      void supervisor?.stop();
    });
  }

  let config: Config;
  try {
    const loaded = loadConfig(runtime.env, runtime.facts, runtime.readTextFile);
    config = loaded.config;
    format = config.logFormat;
    const credentials = config.relay.credentials;
    secrets = credentials ? secretForms(credentials.user, credentials.pass) : [];
    loaded.warnings.forEach((message) => log({ kind: 'warning', message }));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log({ kind: 'config-invalid', problems: error.problems });
    return EXIT_BAD_CONFIG;
  }
  log({ kind: 'config-summary', summary: summarize(config) });

  const maillog = await openMaillogPipe(MAILLOG_PIPE_PATH, (line) => log({ kind: 'postfix-line', line }));
  try {
    try {
      await installConfig(renderAll(config), { configDir: POSTFIX_CONFIG_DIR, saslMapPath: SASL_MAP_PATH, saslMapType: SASL_MAP_TYPE });
    } catch (error) {
      log({ kind: 'fatal', message: (error as Error).message });
      return EXIT_FAILURE;
    }
    if (stopSignal !== undefined) return EXIT_OK;
    supervisor = new PostfixSupervisor(log);
    const exit = await supervisor.start();
    if (!exit.requested) {
      log({ kind: 'postfix-died', code: exit.code, signal: exit.signal });
      return EXIT_FAILURE;
    }
    log({ kind: 'stopped', exitCode: EXIT_OK });
    return EXIT_OK;
  } finally {
    await maillog.close();
  }
}

function summarize(config: Config): Record<string, string> {
  return {
    relay: relayhostOf(config),
    tls: config.relay.wrapperMode ? `${config.relay.tlsLevel}+wrapper` : `${config.relay.tlsLevel}+starttls`,
    auth: config.relay.credentials ? config.relay.credentials.user : 'none',
    listen: `${config.listen.bind ?? 'all'}:${config.listen.port}`,
    allowed_networks: config.allowedNetworks.join(','),
    hostname: config.hostname,
  };
}
