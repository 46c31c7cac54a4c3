import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config-error.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { checkReadiness, startHealthServer, type HealthServer } from '../health/health-server.js';
import type { RelayMetrics } from '../health/relay-metrics.js';
import type { Logger } from '../log/logger.js';
import { installConfig } from '../postfix/install-config.js';
import { probeListener, probeTarget } from '../postfix/probe-listener.js';
import { countQueuedMessages, countQueues, flushQueue } from '../postfix/queue.js';
import { PostfixSupervisor } from '../postfix/supervisor.js';
import { checkRelay } from '../preflight/check-relay.js';
import { POSTFIX_CONFIG_DIR, SASL_MAP_PATH, SASL_MAP_TYPE } from '../render/paths.js';
import { renderAll } from './render-all.js';
import type { Runtime } from './runtime.js';

export const INSTALL_PATHS = { configDir: POSTFIX_CONFIG_DIR, saslMapPath: SASL_MAP_PATH, saslMapType: SASL_MAP_TYPE };
const DRAIN_POLL_MS = 200;
/** Time for the queue manager to pick flushed mail up before an empty active queue means it was tried. */
const SETTLE_MS = 1_000;

/** Postfix while it runs: reloads are serialised, and a stop drains the queue first. */
export class RunningRelay {
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

  /**
   * Mail deferred before this start (the relay was down, the password wrong) would otherwise wait
   * for the retry time the previous container gave it; a restart is usually the fix, so retry now.
   */
  async retryDeferredAtStart(): Promise<void> {
    if ((await countQueues()).deferred === 0) return;
    for (let attempt = 0; attempt < 50 && this.supervisor.running; attempt++) {
      if ((await probeListener(probeTarget(this.config.listen.bind), this.config.listen.port, 500)) === undefined) {
        await flushQueue();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
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
      const flushedAt = Date.now();
      while (queued > 0 && Date.now() < deadline && this.supervisor.running) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
        const counts = await countQueues();
        queued = counts.inFlight + counts.deferred;
        // All of it was tried since the flush and deferred again; the next try is QUEUE_RETRY away.
        const nextRetry = flushedAt + this.config.queueRetrySeconds * 1000;
        if (counts.inFlight === 0 && Date.now() - flushedAt >= SETTLE_MS && nextRetry > deadline) break;
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
