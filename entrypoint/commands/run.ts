import type { Config, LogFormat } from '../config/config.js';
import { ConfigError } from '../config/config-error.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { secretFilePaths, watchSecretFiles } from '../config/watch-secret-files.js';
import { RelayMetrics } from '../health/relay-metrics.js';
import { createLogger, secretForms } from '../log/logger.js';
import { parsePostfixLine } from '../log/parse-postfix-line.js';
import { installConfig } from '../postfix/install-config.js';
import { openMaillogPipe } from '../postfix/maillog-pipe.js';
import { prepareSpool } from '../postfix/prepare-spool.js';
import { isProbeLogLine } from '../postfix/probe-listener.js';
import { checkPortFree } from '../postfix/check-port-free.js';
import { checkRelay } from '../preflight/check-relay.js';
import { relayhostOf } from '../render/main-cf.js';
import { MAILLOG_PIPE_PATH } from '../render/paths.js';
import { renderAll } from './render-all.js';
import { INSTALL_PATHS, RunningRelay } from './running-relay.js';
import { EXIT_BAD_CONFIG, EXIT_FAILURE, EXIT_OK, type Runtime } from './runtime.js';


/** The default command: configure Postfix, run it in the foreground, reload on SIGHUP, drain and stop on SIGTERM. */
export async function runRelay(runtime: Runtime): Promise<number> {
  let format: LogFormat = runtime.env['LOG_FORMAT'] === 'json' ? 'json' : 'plain';
  const secrets = new Set<string>();
  const log = createLogger(runtime.writeStdout, () => format, () => [...secrets]);
  const remember = ({ config }: LoadedConfig) => {
    format = config.logFormat;
    const credentials = config.relay.credentials;
    // Old passwords stay redacted too: a reload must not make the previous one printable.
    if (credentials) secretForms(credentials.user, credentials.pass).forEach((form) => secrets.add(form));
  };
  log({ kind: 'starting', command: 'run' });

  // Handlers go in first: a stop during configuration must not kill us halfway through a write.
  let stopSignal: NodeJS.Signals | undefined;
  let relay: RunningRelay | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    runtime.onSignal(signal, () => {
      const repeated = stopSignal !== undefined;
      stopSignal = signal;
      log({ kind: 'stopping', signal });
      void (repeated ? relay?.stopNow() : relay?.drainAndStop());
    });
  }
  runtime.onSignal('SIGHUP', () => void relay?.reload('SIGHUP'));

  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(runtime.env, runtime.facts, runtime.readTextFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log({ kind: 'config-invalid', problems: error.problems });
    return EXIT_BAD_CONFIG;
  }
  remember(loaded);
  loaded.warnings.forEach((message) => log({ kind: 'warning', message }));
  log({ kind: 'config-summary', summary: summarize(loaded.config) });

  const metrics = new RelayMetrics();
  const maillog = await openMaillogPipe(MAILLOG_PIPE_PATH, (line) => {
    if (isProbeLogLine(line)) return;
    metrics.observe(parsePostfixLine(line), new Date());
    log({ kind: 'postfix-line', line });
  });
  try {
    try {
      await installConfig(renderAll(loaded.config), INSTALL_PATHS);
      const repaired = await prepareSpool();
      if (repaired.length > 0) log({ kind: 'spool-repaired', directories: repaired });
    } catch (error) {
      log({ kind: 'fatal', message: (error as Error).message });
      return EXIT_FAILURE;
    }
    const portProblem = await checkListenPorts(loaded.config);
    if (portProblem !== undefined) {
      log({ kind: 'fatal', message: portProblem });
      return EXIT_FAILURE;
    }
    if (loaded.config.preflight === 'strict') {
      const result = await checkRelay(loaded.config, { readTextFile: runtime.readTextFile });
      if (!result.ok) {
        log({ kind: 'fatal', message: `relay check failed: ${result.message}; PREFLIGHT=strict, so not starting without a working relay` });
        return EXIT_FAILURE;
      }
      log({ kind: 'preflight', ok: true, message: result.detail });
      metrics.setPreflight({ ok: true, message: result.detail, at: new Date() });
    }
    if (stopSignal !== undefined) return EXIT_OK;

    relay = new RunningRelay(runtime, log, loaded.config, remember, metrics);
    const exited = relay.run();
    const health = await relay.startHealthServer();
    if (loaded.config.preflight === 'on') void relay.preflight();
    void relay.retryDeferredAtStart();
    const stopWatching = watchSecretFiles(secretFilePaths(runtime.env), (path) => void relay?.reload(`${path} changed`));
    const exit = await exited;
    stopWatching();
    await health?.close();
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

/** Both listeners, checked before Postfix starts: a taken port gets a reason, not just exit 1. */
async function checkListenPorts(config: Config): Promise<string | undefined> {
  const host = config.listen.bind ?? (config.inetProtocols === 'ipv6' ? '::' : '0.0.0.0');
  const smtp = await checkPortFree('SMTP_PORT', host, config.listen.port);
  if (smtp !== undefined || config.healthPort === undefined) return smtp;
  return checkPortFree('HEALTH_PORT', config.listen.bind ?? '0.0.0.0', config.healthPort);
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
