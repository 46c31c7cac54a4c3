import type { Config, LogFormat } from '../config/config.js';
import { ConfigError } from '../config/config-error.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { secretFilePaths, watchSecretFiles } from '../config/watch-secret-files.js';
import { createLogger, secretForms, type Logger } from '../log/logger.js';
import { installConfig } from '../postfix/install-config.js';
import { openMaillogPipe } from '../postfix/maillog-pipe.js';
import { prepareSpool } from '../postfix/prepare-spool.js';
import { countQueuedMessages, flushQueue } from '../postfix/queue.js';
import { PostfixSupervisor } from '../postfix/supervisor.js';
import { relayhostOf } from '../render/main-cf.js';
import { checkReadiness, startHealthServer, type HealthServer } from '../health/health-server.js';
import { RelayMetrics } from '../health/relay-metrics.js';
import { parsePostfixLine } from '../log/parse-postfix-line.js';
import { isProbeLogLine, probeListener, probeTarget } from '../postfix/probe-listener.js';
import { checkRelay } from '../preflight/check-relay.js';
import { MAILLOG_PIPE_PATH, POSTFIX_CONFIG_DIR, SASL_MAP_PATH, SASL_MAP_TYPE } from '../render/paths.js';
import { renderAll } from './render-all.js';
import { EXIT_BAD_CONFIG, EXIT_FAILURE, EXIT_OK, type Runtime } from './runtime.js';

const INSTALL_PATHS = { configDir: POSTFIX_CONFIG_DIR, saslMapPath: SASL_MAP_PATH, saslMapType: SASL_MAP_TYPE };
const DRAIN_POLL_MS = 200;

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
    if (loaded.config.preflight === 'strict') {
      const result = await checkRelay(loaded.config, { readTextFile: runtime.readTextFile });
      log({ kind: 'preflight', ok: result.ok, message: result.ok ? result.detail : result.message });
      if (!result.ok) {
        log({ kind: 'fatal', message: 'PREFLIGHT=strict: not starting without a working relay' });
        return EXIT_FAILURE;
      }
      metrics.setPreflight({ ok: true, message: result.detail, at: new Date() });
    }
    if (stopSignal !== undefined) return EXIT_OK;

    relay = new RunningRelay(runtime, log, loaded.config, remember, metrics);
    const exited = relay.run();
    const health = await relay.startHealthServer();
    if (loaded.config.preflight === 'on') void relay.preflight();
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

/** Postfix while it runs: reloads are serialised, and a stop drains the queue first. */
class RunningRelay {
  private readonly supervisor: PostfixSupervisor;
  private pending: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly log: Logger,
    private config: Config,
    private readonly remember: (loaded: LoadedConfig) => void,
    private readonly metrics: RelayMetrics,
  ) {
    this.supervisor = new PostfixSupervisor(log);
    if (config.preflight === 'off') metrics.setPreflight({ ok: true, message: 'skipped (PREFLIGHT=off)', at: new Date() });
  }

  run() {
    return this.supervisor.start();
  }

  /** Logs in to the relay once, in the background: a failure is reported, mail is still queued. */
  async preflight(): Promise<void> {
    const result = await checkRelay(this.config, { readTextFile: this.runtime.readTextFile });
    this.log({ kind: 'preflight', ok: result.ok, message: result.ok ? result.detail : result.message });
    this.metrics.setPreflight({ ok: result.ok, message: result.ok ? result.detail : result.message, at: new Date() });
  }

  async startHealthServer(): Promise<HealthServer | undefined> {
    const { healthPort, listen } = this.config;
    if (healthPort === undefined) return undefined;
    const host = listen.bind ?? '0.0.0.0';
    const server = await startHealthServer({
      host,
      port: healthPort,
      isAlive: () => this.supervisor.running,
      isReady: () => checkReadiness(() => probeListener(probeTarget(this.config.listen.bind), this.config.listen.port), () => this.metrics.relayCheck()),
      metrics: async () => {
        this.metrics.setQueueLength(await countQueuedMessages());
        return this.metrics.renderPrometheus();
      },
    });
    this.log({ kind: 'health-server', address: `${host}:${server.port}` });
    return server;
  }

  reload(reason: string): Promise<void> {
    this.pending = this.pending.then(() => this.reloadNow(reason));
    return this.pending;
  }

  private async reloadNow(reason: string): Promise<void> {
    if (this.stopping) return;
    this.log({ kind: 'reloading', reason });
    let loaded: LoadedConfig;
    try {
      loaded = loadConfig(this.runtime.env, this.runtime.facts, this.runtime.readTextFile);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.log({ kind: 'reload-rejected', problems: error.problems });
      return;
    }
    this.remember(loaded);
    try {
      await installConfig(renderAll(loaded.config), INSTALL_PATHS);
      await this.supervisor.reload();
      this.config = loaded.config;
      // Mail deferred under the old settings (a wrong password, say) goes out now.
      await flushQueue();
      this.log({ kind: 'reloaded' });
      if (this.config.preflight !== 'off') void this.preflight();
    } catch (error) {
      this.log({ kind: 'fatal', message: `reload failed: ${(error as Error).message}` });
    }
  }

  /** Stops taking mail, delivers what is queued for up to SHUTDOWN_GRACE seconds, then stops Postfix. */
  async drainAndStop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.pending.catch(() => undefined);
    const graceMs = this.config.shutdownGraceSeconds * 1000;
    let queued = await countQueuedMessages();
    if (queued > 0 && graceMs > 0 && this.supervisor.running) {
      this.log({ kind: 'draining', queued, graceSeconds: this.config.shutdownGraceSeconds });
      const deadline = Date.now() + graceMs;
      try {
        await installConfig(renderAll(this.config, { listening: false }), INSTALL_PATHS);
        await this.supervisor.reload();
        await flushQueue();
      } catch (error) {
        this.log({ kind: 'warning', message: `could not close the listener before stopping: ${(error as Error).message}` });
      }
      while (queued > 0 && Date.now() < deadline && this.supervisor.running) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
        queued = await countQueuedMessages();
      }
      this.log({ kind: 'drained', remaining: queued });
    }
    await this.supervisor.stop();
  }

  async stopNow(): Promise<void> {
    this.stopping = true;
    await this.supervisor.stop();
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
