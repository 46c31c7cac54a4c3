// A local stand-in for smtp.gmail.com (587 STARTTLS or 465 implicit TLS) that records what arrives.
import { EventEmitter } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerSession } from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

/** starttls: port 587 style (plain greeting, STARTTLS). implicit-tls: port 465 style. */
export type FakeGmailMode = 'starttls' | 'implicit-tls';

export interface FakeGmailCredentials {
  user: string;
  pass: string;
}

/** Misbehaviour on demand. Counts start when the behaviour is set (at start or by setBehaviour). */
export interface FakeGmailBehaviour {
  /** The next N connections get a 421 greeting and are closed. */
  rejectConnections?: number;
  /** Once `count` more messages were accepted, every MAIL and DATA gets this reply. */
  /** After `count` accepted messages, refuse with this reply; `times` refusals at most, then accept again. */
  failAfterMessages?: { count: number; code: number; message: string; times?: number };
}

export interface FakeGmailOptions {
  /** Server key and certificate (PEM), e.g. keyPem and certPem from createTestCa. */
  key: string;
  cert: string;
  host?: string;
  /** 0 (the default) picks a free port; read it back from `port`. */
  port?: number;
  mode?: FakeGmailMode;
  /** Required login. Undefined: AUTH is optional and any login is accepted (an IP-authorised smarthost). */
  credentials?: FakeGmailCredentials;
  behaviour?: FakeGmailBehaviour;
  /** Advertised SIZE and the limit enforced; Gmail's by default. */
  sizeLimit?: number;
}

export interface ReceivedMessage {
  envelopeFrom: string;
  envelopeTo: string[];
  /** The message as received in DATA, dot-unstuffed, without the final ".\r\n". */
  raw: Buffer;
  /** The header section, up to (not including) the first empty line. */
  headers: string;
  /** The bytes after the first CRLFCRLF. */
  body: Buffer;
  /** True if the session was TLS (STARTTLS or implicit). */
  secure: boolean;
  /** The login the session made, exactly as decoded from AUTH; undefined without AUTH. */
  authUser?: string;
  authPass?: string;
  receivedAt: number;
}

export interface FakeGmailStats {
  /** TCP connections accepted, including refused ones. */
  connections: number;
  /** TLS sessions set up (STARTTLS or implicit) that got past the connection check. */
  tlsHandshakes: number;
  /** Successful AUTH. */
  logins: number;
  /** AUTH refused with 535. */
  failedLogins: number;
  /** Messages accepted. */
  messages: number;
  /** AUTH attempts in plain text before STARTTLS (the client sent its password in the clear). */
  authBeforeTls: number;
}

export interface FakeGmail {
  readonly host: string;
  readonly port: number;
  readonly mode: FakeGmailMode;
  /** Accepted messages, oldest first. */
  readonly messages: ReceivedMessage[];
  readonly stats: FakeGmailStats;
  /** Errors smtp-server reported (failed TLS handshakes, socket errors), for diagnostics. */
  readonly errors: Error[];
  setBehaviour(behaviour: FakeGmailBehaviour): void;
  setCredentials(credentials: FakeGmailCredentials | undefined): void;
  /** Resolves with all messages once at least `count` arrived; rejects after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs: number): Promise<ReceivedMessage[]>;
  close(): Promise<void>;
}

/** Gmail's advertised SIZE on smtp.gmail.com:587. */
export const GMAIL_SIZE_LIMIT = 35882577;

// Gmail's reply texts; enhanced status codes are written out because smtp-server's own mapping is off.
const TRY_AGAIN_LATER = '4.7.0 Try again later, closing connection.';
const MUST_STARTTLS = '5.7.0 Must issue a STARTTLS command first.';
const AUTH_REQUIRED = '5.7.0 Authentication Required. For more information, go to https://support.google.com/mail/?p=WantAuthError';
const BAD_CREDENTIALS = '5.7.8 Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials';
const TOO_BIG = "5.3.4 Your message exceeded Google's message size limits. For more information, go to https://support.google.com/mail/?p=MaxSizeError";

/** What onAuth stores in session.user. */
interface Login {
  user: string;
  pass: string;
}

export async function startFakeGmail(options: FakeGmailOptions): Promise<FakeGmail> {
  const mode = options.mode ?? 'starttls';
  const host = options.host ?? '127.0.0.1';
  const messages: ReceivedMessage[] = [];
  const errors: Error[] = [];
  const stats: FakeGmailStats = { connections: 0, tlsHandshakes: 0, logins: 0, failedLogins: 0, messages: 0, authBeforeTls: 0 };
  const arrivals = new EventEmitter();
  const sockets = { plain: new Set<Socket>(), tls: new Set<Socket>() };
  let credentials = options.credentials;
  let behaviour: FakeGmailBehaviour = {};
  let refusedConnections = 0;
  let acceptedBeforeBehaviour = 0;
  let quotaRefusals = 0;

  const setBehaviour = (next: FakeGmailBehaviour): void => {
    behaviour = { ...next };
    refusedConnections = 0;
    quotaRefusals = 0;
    acceptedBeforeBehaviour = messages.length;
  };
  setBehaviour(options.behaviour ?? {});

  const quotaRefusal = (): Error | undefined => {
    const limit = behaviour.failAfterMessages;
    if (!limit || messages.length - acceptedBeforeBehaviour < limit.count) return undefined;
    if (limit.times !== undefined && quotaRefusals >= limit.times) return undefined;
    quotaRefusals += 1;
    return smtpError(limit.code, limit.message);
  };

  const server: SMTPServer = new SMTPServer({
    name: 'smtp.gmail.com',
    banner: 'fake',
    heloResponse: '%s at your service, %s',
    secure: mode === 'implicit-tls',
    key: options.key,
    cert: options.cert,
    minVersion: 'TLSv1.2',
    size: options.sizeLimit ?? GMAIL_SIZE_LIMIT,
    authMethods: ['LOGIN', 'PLAIN'],
    authOptional: credentials === undefined,
    authRequiredMessage: AUTH_REQUIRED,
    allowInsecureAuth: false,
    hideSTARTTLS: false,
    disabledCommands: mode === 'implicit-tls' ? ['STARTTLS'] : [],
    // A PTR lookup of 127.0.0.1 can stall the greeting for its 1.5 s timeout where there is no DNS.
    disableReverseLookup: true,
    // smtp-server drops clients after 10 commands without AUTH; Postfix's probes must not trip it.
    maxAllowedUnauthenticatedCommands: false,
    // The default waits 30 s for clients to leave on close().
    closeTimeout: 100,
    logger: false,

    onConnect(session, callback) {
      if (refusedConnections < (behaviour.rejectConnections ?? 0)) {
        refusedConnections += 1;
        return callback(smtpError(421, TRY_AGAIN_LATER));
      }
      if (mode === 'starttls') {
        // Like Gmail: no AUTH in the EHLO reply until TLS is up (onSecure lifts this).
        session.disabledCommands = ['AUTH'];
        const connection = [...server.connections].find((candidate) => candidate.session === session);
        if (connection) refuseAuthBeforeTls(connection, () => (stats.authBeforeTls += 1));
      }
      callback();
    },

    onSecure(socket, session, callback) {
      stats.tlsHandshakes += 1;
      track(sockets.tls, socket);
      session.disabledCommands = undefined;
      callback();
    },

    onAuth(auth, _session, callback) {
      const user = auth.username ?? '';
      const pass = auth.password ?? '';
      if (credentials && (user !== credentials.user || pass !== credentials.pass)) {
        stats.failedLogins += 1;
        return callback(null, { responseCode: 535, message: BAD_CREDENTIALS });
      }
      stats.logins += 1;
      callback(null, { user: { user, pass } satisfies Login });
    },

    onMailFrom(_address, session, callback) {
      // With AUTH disabled before TLS, smtp-server's own auth check is skipped, so this is the gate.
      if (mode === 'starttls' && !session.secure) return callback(smtpError(530, MUST_STARTTLS));
      callback(quotaRefusal());
    },

    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(smtpError(552, TOO_BIG));
        const refusal = quotaRefusal();
        if (refusal) return callback(refusal);
        const message = recordMessage(Buffer.concat(chunks), session);
        messages.push(message);
        stats.messages += 1;
        arrivals.emit('message');
        callback(null, `2.0.0 OK ${Math.floor(message.receivedAt / 1000)} fake-${messages.length} - gsmtp`);
      });
    },
  });

  server.on('error', (error) => errors.push(error));
  server.server.on('connection', (socket: Socket) => {
    // Gmail answers without Nagle's delay; Node's default would hold each reply ~40 ms for the client's delayed ACK.
    socket.setNoDelay(true);
    stats.connections += 1;
    track(sockets.plain, socket);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => server.close(() => resolve())).then(() => {
      // smtp-server only half-closes sessions still open after closeTimeout; destroy TLS sockets before the TCP ones under them.
      for (const socket of [...sockets.tls, ...sockets.plain]) socket.destroy();
    });
    return closing;
  };

  const waitForMessages = (count: number, timeoutMs: number): Promise<ReceivedMessage[]> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (messages.length < count) return;
        cleanup();
        resolve([...messages]);
      };
      const timer = setTimeout(() => {
        cleanup();
        const { connections, tlsHandshakes, logins, failedLogins } = stats;
        reject(new Error(`fake Gmail: expected ${count} message(s) within ${timeoutMs} ms, ${messages.length} arrived ` +
          `(connections ${connections}, TLS ${tlsHandshakes}, logins ${logins}, failed logins ${failedLogins})`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        arrivals.off('message', check);
      };
      arrivals.on('message', check);
      check();
    });

  return {
    host,
    port,
    mode,
    messages,
    stats,
    errors,
    setBehaviour,
    setCredentials(next) {
      credentials = next;
      // smtp-server reads this option at every command, so the change applies to open sessions too.
      server.options.authOptional = next === undefined;
    },
    waitForMessages,
    close,
  };
}

function recordMessage(raw: Buffer, session: SMTPServerSession): ReceivedMessage {
  const blankLine = raw.indexOf('\r\n\r\n');
  const login = session.user ? (session.user as Login) : undefined;
  const { mailFrom, rcptTo } = session.envelope;
  return {
    envelopeFrom: mailFrom ? mailFrom.address : '',
    envelopeTo: rcptTo.map((recipient) => recipient.address),
    raw,
    headers: (blankLine === -1 ? raw : raw.subarray(0, blankLine)).toString('utf8'),
    body: blankLine === -1 ? Buffer.alloc(0) : raw.subarray(blankLine + 4),
    secure: session.secure,
    ...(login ? { authUser: login.user, authPass: login.pass } : {}),
    receivedAt: Date.now(),
  };
}

/**
 * Gmail answers AUTH before STARTTLS with 530, but smtp-server answers a command disabled for
 * the session with "500 command not recognized". No public hook sees the command line, so this
 * wraps the connection's (typed, underscore) dispatcher; it only acts until TLS is up.
 */
function refuseAuthBeforeTls(connection: SMTPConnection, onAttempt: () => void): void {
  const dispatch = connection._onCommand.bind(connection);
  connection._onCommand = (command, callback) => {
    const plainAuth = !connection.secure && connection._ready && !connection._upgrading && /^AUTH\b/i.test(command.toString());
    if (!plainAuth) return dispatch(command, callback);
    onAttempt();
    connection.send(530, MUST_STARTTLS);
    setImmediate(() => callback?.());
  };
}

function track(set: Set<Socket>, socket: Socket): void {
  set.add(socket);
  socket.once('close', () => set.delete(socket));
}

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}
