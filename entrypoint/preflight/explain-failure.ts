import { redact, secretForms } from '../log/logger.js';
import { isIPv6 } from 'node:net';
import { GMAIL_HOST } from '../config/env-names.js';

/** What kind of thing went wrong; the message says the rest. */
export type RelayProblem =
  | 'auth-rejected'
  | 'certificate'
  | 'connection-refused'
  | 'timeout'
  | 'dns'
  | 'tls'
  | 'protocol'
  | 'ca-file';

export interface ExplainedFailure {
  readonly problem: RelayProblem;
  readonly message: string;
}

/** What the check was trying to do, for naming it in messages. */
export interface FailureContext {
  readonly host: string;
  readonly port: number;
  readonly caFile: string;
  /** The login name; undefined when no AUTH was attempted. */
  readonly user: string | undefined;
  /** How long connecting, the greeting and the TLS handshake may take together. */
  readonly timeoutMs: number;
  /** How long the server may stay silent once connected; timeoutMs if not given. */
  readonly replyTimeoutMs?: number;
  /** TLS from the first byte rather than STARTTLS. */
  readonly wrapperMode: boolean;
}

/**
 * The parts of an error nodemailer's SMTP connection reports (smtp-connection/index.js
 * _formatError): `code` is its own category (EAUTH, ESOCKET, ETLS, EDNS, ETIMEDOUT, ECONNECTION,
 * EPROTOCOL); the Node/OpenSSL code it replaced is kept in `originalCode`.
 */
interface ErrorLike {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly originalCode?: unknown;
  readonly response?: unknown;
  readonly responseCode?: unknown;
  readonly command?: unknown;
  readonly timeoutType?: unknown;
  readonly timeoutMs?: unknown;
  readonly reason?: unknown;
  readonly cert?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** nodemailer's categories, which hide the more telling Node/OpenSSL code underneath. */
const NODEMAILER_CODES = new Set(['ESOCKET', 'ETLS', 'ECONNECTION', 'EDNS', 'EPROTOCOL', 'EAUTH', 'ENOAUTH', 'EENVELOPE', 'EMESSAGE']);

/** Node's TLS message texts, for errors that arrive with the code stripped ("Error initiating TLS - ..."). */
const CERTIFICATE_MESSAGES: readonly (readonly [RegExp, string])[] = [
  [/Hostname\/IP does not match certificate's altnames/i, 'ERR_TLS_CERT_ALTNAME_INVALID'],
  [/unable to verify the first certificate/i, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  [/self[- ]signed certificate in certificate chain/i, 'SELF_SIGNED_CERT_IN_CHAIN'],
  [/self[- ]signed certificate/i, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  [/unable to get local issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  [/unable to get issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT'],
  [/certificate has expired/i, 'CERT_HAS_EXPIRED'],
  [/certificate is not yet valid/i, 'CERT_NOT_YET_VALID'],
];

/** OpenSSL verify results meaning "no trusted CA signed this chain". */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
]);

const OTHER_CERTIFICATE_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
]);

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA', 'ENODATA', 'ESERVFAIL']);
const UNREACHABLE_CODES = new Map([
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
  ['EADDRNOTAVAIL', 'address not available'],
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** nodemailer's timeoutType → what was being waited for. */
const TIMEOUT_PHASES: Readonly<Record<string, string>> = {
  CONNECT_TIMEOUT: 'connecting',
  GREETING_TIMEOUT: 'waiting for the SMTP greeting',
  UPGRADE_TIMEOUT: 'during the TLS handshake',
  SOCKET_TIMEOUT: 'waiting for a reply',
  CHECK_TIMEOUT: 'in all',
};

/** nodemailer/Node error → problem kind and a message a user can act on. Pure. */
export function explainFailure(error: unknown, context: FailureContext): ExplainedFailure {
  const err = asErrorLike(error);
  const code = originalCode(err);
  const server = hostPort(context.host, context.port);
  const response = typeof err.response === 'string' ? oneLine(err.response) : undefined;
  const responseCode = typeof err.responseCode === 'number' ? err.responseCode : undefined;

  if (err.code === 'EAUTH' || err.code === 'ENOAUTH') return explainAuth(context, response, responseCode, messageOf(err));

  if (err.code === 'EDNS' || (code !== undefined && DNS_CODES.has(code))) {
    const reason =
      code === 'ETIMEOUT' || code === 'ETIMEDOUT' ? ` (timed out after ${seconds(context.timeoutMs)} s)`
      : code === 'EAI_AGAIN' ? ' (EAI_AGAIN: temporary failure in name resolution; is a DNS server reachable?)'
      : code !== undefined && code !== 'EDNS' ? ` (${code})`
      : '';
    return { problem: 'dns', message: `cannot resolve ${context.host}${reason}` };
  }

  if (isTimeout(err, code)) {
    const phase = TIMEOUT_PHASES[typeof err.timeoutType === 'string' ? err.timeoutType : ''] ?? 'waiting for the server';
    // A port that expects TLS from the first byte waits for the client's hello, so no greeting ever comes.
    const hint = err.timeoutType === 'GREETING_TIMEOUT' && !context.wrapperMode ? ' (a port that expects TLS from the first byte, such as 465, stays silent like this)' : '';
    // An overall deadline (rather than one of nodemailer's per-phase timeouts) says how long it was.
    const after =
      typeof err.timeoutMs === 'number' ? err.timeoutMs
      : err.timeoutType === 'SOCKET_TIMEOUT' ? (context.replyTimeoutMs ?? context.timeoutMs)
      : context.timeoutMs;
    return { problem: 'timeout', message: `no answer from ${server}: timed out after ${seconds(after)} s ${phase}${hint}` };
  }

  if (code === 'ECONNREFUSED') return { problem: 'connection-refused', message: `cannot connect to ${server}: connection refused` };
  const unreachable = code === undefined ? undefined : UNREACHABLE_CODES.get(code);
  if (unreachable !== undefined) return { problem: 'connection-refused', message: `cannot connect to ${server}: ${unreachable}` };

  const certificateCode = code !== undefined && isCertificateCode(code) ? code : certificateCodeFromMessage(messageOf(err));
  if (certificateCode !== undefined) return explainCertificate(certificateCode, err, context);

  if (code !== undefined && RESET_CODES.has(code)) {
    const during = err.code === 'ETLS' ? ' during STARTTLS' : '';
    return { problem: 'protocol', message: `${server} closed the connection${during} (${code})` };
  }

  if (err.code === 'ETLS' || (code !== undefined && (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO'))) {
    return explainTls(err, code, response, context);
  }

  if (response !== undefined) {
    const during = typeof err.command === 'string' && err.command !== 'CONN' ? ` after ${err.command}` : '';
    return { problem: 'protocol', message: `${server} answered${during}: ${response}` };
  }
  const detail = messageOf(err) || 'unknown error';
  return { problem: 'protocol', message: `talking to ${server} failed: ${detail}${code && !detail.includes(code) ? ` (${code})` : ''}` };
}

/** A CA file that cannot be read or holds no certificate; `reason` is an errno code or a phrase. */
export function explainCaFile(caFile: string, reason: string): ExplainedFailure {
  return { problem: 'ca-file', message: `cannot use the CA file ${caFile}: ${reason}` };
}

/**
 * Removes the password and the base64 forms it takes on the wire (AUTH LOGIN, AUTH PLAIN
 * with and without an authorization identity) from `text`.
 */
/** The same masking as the log's, so a password looks the same (********) wherever it is hidden. */
export function redactPassword(text: string, user: string, pass: string): string {
  return redact(text, secretForms(user, pass));
}

function explainAuth(context: FailureContext, response: string | undefined, responseCode: number | undefined, message: string): ExplainedFailure {
  const user = context.user ?? '(no user)';
  const reply = response ?? message;
  if (responseCode === undefined) return { problem: 'auth-rejected', message: `login to ${context.host} as ${user} failed: ${message}` };
  // 500-504: the server does not take AUTH at all (over TLS either), so no login can work.
  if (responseCode >= 500 && responseCode <= 504) {
    return { problem: 'protocol', message: `${context.host} does not accept AUTH (${reply}); is this the right relay, or does it need no credentials?` };
  }
  // Gmail answers 535 5.7.8 to a wrong password and 534 5.7.9 to an account password where an app password is needed.
  if (isGmail(context.host) && (responseCode === 535 || responseCode === 534)) {
    return {
      problem: 'auth-rejected',
      message: `Gmail refused the login for ${user}: use an app password (needs 2-Step Verification), not your account password (${reply})`,
    };
  }
  return { problem: 'auth-rejected', message: `${context.host} refused the login for ${user} (${reply})` };
}

function explainCertificate(code: string, err: ErrorLike, context: FailureContext): ExplainedFailure {
  const subject = `the certificate of ${context.host}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    const names = certificateNames(err);
    return { problem: 'certificate', message: `${subject} is for ${names ?? 'other names'}, not ${context.host}` };
  }
  if (UNTRUSTED_CODES.has(code)) return { problem: 'certificate', message: `${subject} is not signed by a CA in ${context.caFile} (${code})` };
  if (code === 'CERT_HAS_EXPIRED') return { problem: 'certificate', message: `${subject} has expired` };
  if (code === 'CERT_NOT_YET_VALID') return { problem: 'certificate', message: `${subject} is not valid yet (is the clock right?)` };
  return { problem: 'certificate', message: `${subject} was rejected: ${messageOf(err) || code} (${code})` };
}

function explainTls(err: ErrorLike, code: string | undefined, response: string | undefined, context: FailureContext): ExplainedFailure {
  const server = hostPort(context.host, context.port);
  if (response !== undefined && err.command === 'STARTTLS') return { problem: 'tls', message: `${server} refused STARTTLS (${response})` };
  const reason = typeof err.reason === 'string' ? err.reason : firstLine(messageOf(err));
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    const hint = context.wrapperMode
      ? 'it does not speak TLS from the first byte; port 587 uses STARTTLS'
      : 'it does not speak TLS after STARTTLS';
    return { problem: 'tls', message: `TLS handshake with ${server} failed (${reason}): ${hint}` };
  }
  return { problem: 'tls', message: `TLS with ${server} failed: ${reason}${code && !reason.includes(code) ? ` (${code})` : ''}` };
}

/** The certificate's own names: its subjectAltName list, or what Node quoted from it, or its CN. */
function certificateNames(err: ErrorLike): string | undefined {
  const cert = err.cert as { subjectaltname?: unknown; subject?: { CN?: unknown } } | undefined;
  if (cert && typeof cert.subjectaltname === 'string' && cert.subjectaltname !== '') return cert.subjectaltname;
  // Node: "Host: x. is not in the cert's altnames: DNS:a, DNS:b" or "IP: 1.2.3.4 is not in the cert's list: ..."
  const text = [err.reason, err.message].filter((part): part is string => typeof part === 'string').join('\n');
  const quoted = /cert's (?:altnames|list): ([^\n]+)/.exec(text)?.[1]?.trim();
  if (quoted) return quoted;
  const commonName = cert?.subject?.CN;
  if (typeof commonName === 'string' && commonName !== '') return `CN=${commonName}`;
  return undefined;
}

function isTimeout(err: ErrorLike, code: string | undefined): boolean {
  return err.code === 'ETIMEDOUT' || code === 'ETIMEDOUT' || code === 'ETIMEOUT' || typeof err.timeoutType === 'string';
}

function isCertificateCode(code: string): boolean {
  return code === 'ERR_TLS_CERT_ALTNAME_INVALID' || UNTRUSTED_CODES.has(code) || OTHER_CERTIFICATE_CODES.has(code);
}

function certificateCodeFromMessage(message: string): string | undefined {
  return CERTIFICATE_MESSAGES.find(([pattern]) => pattern.test(message))?.[1];
}

/**
 * The most specific code: nodemailer's `originalCode`, else one found on a `cause` or on the
 * first of an AggregateError's `errors` (net.connect with several addresses), else a Node code
 * quoted in the message ("connect ECONNREFUSED ..."), else nodemailer's own.
 */
function originalCode(err: ErrorLike, depth = 0): string | undefined {
  if (typeof err.originalCode === 'string') return err.originalCode;
  const own = typeof err.code === 'string' ? err.code : undefined;
  if (own !== undefined && !NODEMAILER_CODES.has(own)) return own;
  if (depth < 3) {
    for (const inner of [err.cause, Array.isArray(err.errors) ? err.errors[0] : undefined]) {
      if (inner !== null && typeof inner === 'object') {
        const found = originalCode(inner as ErrorLike, depth + 1);
        if (found !== undefined && !NODEMAILER_CODES.has(found)) return found;
      }
    }
  }
  const quoted = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/.exec(messageOf(err))?.[1];
  return quoted ?? own;
}

function asErrorLike(error: unknown): ErrorLike {
  if (error !== null && typeof error === 'object') return error as ErrorLike;
  return { message: String(error) };
}

function messageOf(err: ErrorLike): string {
  return typeof err.message === 'string' ? err.message.trim() : '';
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}

/** Multi-line SMTP replies ("535-5.7.8 ...\n535 5.7.8 ...") on one line. */
function oneLine(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\s+/g, ' ').trim();
}

function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function isGmail(host: string): boolean {
  return host.toLowerCase().replace(/\.$/, '') === GMAIL_HOST;
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
