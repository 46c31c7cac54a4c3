/** The validated settings the rest of the entrypoint works from; envalid never leaks past config/. */
export type TlsLevel = 'secure' | 'encrypt';
export type InetProtocols = 'ipv4' | 'ipv6' | 'all';
export type LogFormat = 'plain' | 'json';
/** on: check the relay at start and report it; strict: refuse to start when it fails; off: skip. */
export type PreflightMode = 'on' | 'strict' | 'off';

export interface Credentials {
  readonly user: string;
  readonly pass: string;
}

export interface RelayConfig {
  readonly host: string;
  readonly port: number;
  readonly tlsLevel: TlsLevel;
  /** TLS from the first byte (port 465) instead of STARTTLS. */
  readonly wrapperMode: boolean;
  readonly caFile: string;
  /** Absent for IP-authorised smarthosts: no AUTH is attempted. */
  readonly credentials: Credentials | undefined;
}

export interface ListenConfig {
  readonly port: number;
  /** undefined means every address of the container. */
  readonly bind: string | undefined;
}

/** A main.cf parameter set through POSTFIX_<name>, with Postfix's own spelling of the name. */
export interface ParameterOverride {
  readonly name: string;
  readonly value: string;
}

export interface Config {
  readonly relay: RelayConfig;
  readonly listen: ListenConfig;
  readonly allowedNetworks: readonly string[];
  /** Envelope sender domains allowed to relay; empty means any. */
  readonly allowedSenderDomains: readonly string[];
  /** Envelope sender and From header rewritten to this address (REWRITE_SENDER=yes). */
  readonly rewriteSenderTo: string | undefined;
  readonly overrides: readonly ParameterOverride[];
  readonly hostname: string;
  readonly messageSizeLimit: number;
  readonly inetProtocols: InetProtocols;
  readonly logFormat: LogFormat;
  /** Seconds between retries of deferred mail. */
  readonly queueRetrySeconds: number;
  /** Seconds SIGTERM waits for queued mail to be delivered before stopping Postfix. */
  readonly shutdownGraceSeconds: number;
  /** Port of the HTTP health/metrics server; undefined means off. */
  readonly healthPort: number | undefined;
  readonly preflight: PreflightMode;
  /** Messages per minute to the relay (1-60); undefined means as fast as the relay takes them. */
  readonly rateLimitPerMinute: number | undefined;
}

/** Facts about the machine that defaults depend on; gathered by main.ts so config stays pure. */
export interface HostFacts {
  readonly hostname: string;
  /** CIDRs of the container's own interfaces, e.g. 172.17.0.0/16. */
  readonly interfaceNetworks: readonly string[];
  /** Every main.cf parameter name Postfix knows (`postconf -d`), for checking POSTFIX_* names. */
  readonly postfixParameters: ReadonlySet<string>;
}
