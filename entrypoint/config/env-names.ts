/** Every variable the entrypoint reads; image/ imports these so tests and docs use the same names. */
export const ENV = {
  gmailUser: 'GMAIL_USER',
  gmailPass: 'GMAIL_PASS',
  gmailPassword: 'GMAIL_PASSWORD',
  relayUser: 'RELAY_USER',
  relayPass: 'RELAY_PASS',
  relayHost: 'RELAY_HOST',
  relayPort: 'RELAY_PORT',
  relayTlsLevel: 'RELAY_TLS_LEVEL',
  relayTlsCaFile: 'RELAY_TLS_CA_FILE',
  smtpPort: 'SMTP_PORT',
  smtpBind: 'SMTP_BIND',
  allowedNetworks: 'ALLOWED_NETWORKS',
  allowOpenRelay: 'ALLOW_OPEN_RELAY',
  allowedSenderDomains: 'ALLOWED_SENDER_DOMAINS',
  rewriteSender: 'REWRITE_SENDER',
  mailHostname: 'MAIL_HOSTNAME',
  messageSizeLimit: 'MESSAGE_SIZE_LIMIT',
  inetProtocols: 'INET_PROTOCOLS',
  logFormat: 'LOG_FORMAT',
  queueRetry: 'QUEUE_RETRY',
  shutdownGrace: 'SHUTDOWN_GRACE',
  healthPort: 'HEALTH_PORT',
  preflight: 'PREFLIGHT',
  rateLimit: 'RATE_LIMIT',
} as const;

/** POSTFIX_<parameter>=value sets any main.cf parameter, applied last. */
export const POSTFIX_OVERRIDE_PREFIX = 'POSTFIX_';

/** Credentials may come from NAME_FILE (Docker and Kubernetes secrets). */
export const FILE_VARIABLES: readonly string[] = [
  ENV.gmailUser,
  ENV.gmailPass,
  ENV.gmailPassword,
  ENV.relayUser,
  ENV.relayPass,
];

/** Values that never appear in any output. */
export const PASSWORD_VARIABLES: readonly string[] = [ENV.gmailPass, ENV.gmailPassword, ENV.relayPass];

export const GMAIL_HOST = 'smtp.gmail.com';
export const SYSTEM_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';
/** Gmail's advertised SIZE; Postfix's own default (10240000) would refuse mail Gmail takes. */
export const GMAIL_SIZE_LIMIT = 35_882_577;
