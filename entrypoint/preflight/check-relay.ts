import { X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP, isIPv6 } from 'node:net';
import { createTransport } from 'nodemailer';
import type { SMTPTransportOptions } from 'nodemailer/lib/smtp-transport';
import type { Config, InetProtocols } from '../config/config.js';
import { explainCaFile, explainFailure, redactPassword, type ExplainedFailure, type FailureContext, type RelayProblem } from './explain-failure.js';

export type { RelayProblem } from './explain-failure.js';

export type RelayCheckResult =
  | { ok: true; detail: string; durationMs: number }
  | { ok: false; problem: RelayProblem; message: string; durationMs: number };

export interface CheckRelayOptions {
  /**
   * Time for connecting, the greeting and the TLS handshake together; a reply may take twice
   * this (so a silent server is reported at the step it hung), the whole check five times.
   */
  timeoutMs?: number;
  /** Reads the CA file; readFileSync by default. */
  readTextFile?: (path: string) => string;
}

export const DEFAULT_RELAY_CHECK_TIMEOUT_MS = 10_000;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const FAMILY: Readonly<Record<InetProtocols, 0 | 4 | 6>> = { ipv4: 4, ipv6: 6, all: 0 };

/**
 * Connects to the relay as Postfix will (EHLO, STARTTLS or TLS from the first byte, the same
 * certificate checks, AUTH) and QUITs without sending mail. Never throws; no message it
 * returns contains the password.
 */
export async function checkRelay(config: Config, options: CheckRelayOptions = {}): Promise<RelayCheckResult> {
  const started = performance.now();
  const { relay } = config;
  const timeoutMs = options.timeoutMs ?? DEFAULT_RELAY_CHECK_TIMEOUT_MS;
  const credentials = relay.credentials;
  const clean = (text: string): string => (credentials ? redactPassword(text, credentials.user, credentials.pass) : text);
  const durationMs = (): number => Math.round(performance.now() - started);
  const failed = ({ problem, message }: ExplainedFailure): RelayCheckResult => ({ ok: false, problem, message: clean(message), durationMs: durationMs() });
  const context: FailureContext = {
    host: relay.host,
    port: relay.port,
    caFile: relay.caFile,
    user: credentials?.user,
    timeoutMs,
    replyTimeoutMs: 2 * timeoutMs,
    wrapperMode: relay.wrapperMode,
  };

  try {
    const verifyCertificate = relay.tlsLevel === 'secure';
    let ca: string[] | undefined;
    if (verifyCertificate) {
      const loaded = loadCaCertificates(relay.caFile, options.readTextFile ?? ((path) => readFileSync(path, 'utf8')));
      if (!Array.isArray(loaded)) return failed(loaded);
      ca = loaded;
    }
    const address = await resolveAddress(relay.host, FAMILY[config.inetProtocols], timeoutMs);
    // The name to verify and send as SNI; Node refuses an IP address as SNI (RFC 6066) and checks IP SANs instead.
    const servername = isIP(relay.host) === 0 ? relay.host : undefined;
    const transportOptions: SMTPTransportOptions = {
      // An address, not the name: nodemailer would ask DNS directly (resolve4/resolve6) and skip
      // /etc/hosts, where Postfix (smtp_host_lookup = native) and `--add-host` work through getaddrinfo.
      host: address,
      port: relay.port,
      secure: relay.wrapperMode,
      // Postfix at smtp_tls_security_level encrypt/secure never falls back to plain text, and neither does this.
      requireTLS: true,
      name: config.hostname,
      ...(servername === undefined ? {} : { servername }),
      tls: {
        ...(ca === undefined ? {} : { ca }),
        ...(servername === undefined ? {} : { servername }),
        rejectUnauthorized: verifyCertificate,
        minVersion: 'TLSv1.2',
      },
      ...(credentials === undefined
        ? {}
        : {
            auth: { user: credentials.user, pass: credentials.pass },
            // Without this nodemailer skips AUTH when the server does not offer it and reports success.
            forceAuth: true,
          }),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      // Longer than the setup timeouts: both timers start together, and the setup one names the step.
      socketTimeout: 2 * timeoutMs,
      logger: false,
      debug: false,
    };
    const transport = createTransport(transportOptions);
    try {
      // A safety net for a server that trickles bytes; nodemailer's own timeouts come first.
      await withDeadline(transport.verify(), 5 * timeoutMs);
    } finally {
      transport.close();
    }
    const took = durationMs();
    return { ok: true, detail: clean(describeSuccess(config, address, took)), durationMs: took };
  } catch (error) {
    return failed(explainFailure(error, context));
  }
}

function describeSuccess(config: Config, address: string, durationMs: number): string {
  const { relay } = config;
  const where = relay.host === address ? hostPort(relay.host, relay.port) : `${hostPort(relay.host, relay.port)} (${address})`;
  const tls = relay.wrapperMode ? 'TLS from the first byte' : 'STARTTLS';
  const certificate =
    relay.tlsLevel === 'secure' ? `certificate verified against ${relay.caFile}` : 'certificate not verified (TLS level encrypt)';
  const login = relay.credentials ? `logged in as ${relay.credentials.user}` : 'no credentials, AUTH not tried';
  return `${where}: ${tls}, ${certificate}, ${login} (${durationMs} ms)`;
}

/** The PEM certificates of the CA file that parse, or why there are none. */
function loadCaCertificates(caFile: string, readTextFile: (path: string) => string): string[] | ExplainedFailure {
  let text: string;
  try {
    text = readTextFile(caFile);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    return explainCaFile(caFile, `cannot read it (${code ?? 'unreadable'})`);
  }
  // Node ignores a CA that does not parse; without this a broken file would look like an untrusted relay.
  const certificates = (text.match(PEM_CERTIFICATE) ?? []).filter((pem) => {
    try {
      new X509Certificate(pem);
      return true;
    } catch {
      return false;
    }
  });
  if (certificates.length === 0) return explainCaFile(caFile, 'it holds no PEM certificate');
  return certificates;
}

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), bounded by the check's timeout. */
async function resolveAddress(host: string, family: 0 | 4 | 6, timeoutMs: number): Promise<string> {
  if (isIP(host) !== 0) return host;
  const timedOut = Object.assign(new Error(`DNS lookup for ${host} timed out`), { code: 'EDNS', originalCode: 'ETIMEOUT' });
  const { address } = await withDeadline(lookup(host, { family }), timeoutMs, timedOut);
  return address;
}

function withDeadline<T>(promise: Promise<T>, ms: number, error?: Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(error ?? Object.assign(new Error('Relay check timed out'), { code: 'ETIMEDOUT', timeoutType: 'CHECK_TIMEOUT', timeoutMs: ms })),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
