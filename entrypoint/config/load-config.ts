import { cleanEnv, EnvMissingError } from 'envalid';
import type { Config, Credentials, HostFacts } from './config.js';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { ENV, GMAIL_HOST, GMAIL_SIZE_LIMIT, SYSTEM_CA_FILE } from './env-names.js';
import { resolveSecretFiles, type Env, type ReadTextFile } from './resolve-secret-files.js';
import { domainList, emailAddress, hostName, ipAddress, networkList, oneOf, port, positiveInteger, text, wholeNumber, yesNo, messagesPerMinute } from './validators.js';
import { parseParameterOverrides } from './parameter-overrides.js';
import { parseCidr } from './cidr.js';
import { dropServiceLinks } from './kubernetes-service-links.js';
import { isIPv6 } from 'node:net';
import { findQuotedValues } from './quoted-values.js';

export interface LoadedConfig {
  readonly config: Config;
  readonly warnings: readonly string[];
}

const LOOPBACK_NETWORKS = ['127.0.0.0/8', '::1/128'];
/** Google shows app passwords as four groups of four letters; the spaces are not part of it. */
const GMAIL_APP_PASSWORD_DISPLAY_FORM = /^[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}$/;

function envSpecs(facts: HostFacts) {
  return {
    [ENV.gmailUser]: emailAddress({ default: undefined }),
    [ENV.gmailPass]: text({ default: undefined }),
    [ENV.gmailPassword]: text({ default: undefined }),
    [ENV.relayUser]: text({ default: undefined }),
    [ENV.relayPass]: text({ default: undefined }),
    [ENV.relayHost]: hostName({ default: GMAIL_HOST }),
    [ENV.relayPort]: port({ default: 587 }),
    [ENV.relayTlsLevel]: oneOf(['secure', 'encrypt'] as const)({ default: 'secure' }),
    [ENV.relayTlsCaFile]: text({ default: SYSTEM_CA_FILE }),
    [ENV.smtpPort]: port({ default: 25 }),
    [ENV.smtpBind]: ipAddress({ default: undefined }),
    [ENV.allowedNetworks]: networkList({ default: [...LOOPBACK_NETWORKS, ...facts.interfaceNetworks] }),
    [ENV.allowOpenRelay]: yesNo({ default: false }),
    [ENV.allowedSenderDomains]: domainList({ default: [] }),
    [ENV.rewriteSender]: yesNo({ default: false }),
    [ENV.mailHostname]: hostName({ default: fullyQualified(facts.hostname) }),
    [ENV.messageSizeLimit]: positiveInteger({ default: GMAIL_SIZE_LIMIT }),
    [ENV.inetProtocols]: oneOf(['ipv4', 'ipv6', 'all'] as const)({ default: undefined }),
    [ENV.logFormat]: oneOf(['plain', 'json'] as const)({ default: 'plain' }),
    [ENV.queueRetry]: positiveInteger({ default: 60 }),
    [ENV.shutdownGrace]: wholeNumber({ default: 8 }),
    [ENV.healthPort]: port({ default: undefined }),
    [ENV.preflight]: oneOf(['on', 'strict', 'off'] as const)({ default: 'on' }),
    [ENV.rateLimit]: messagesPerMinute({ default: undefined }),
  };
}

/** env + secret files → Config, or a ConfigError listing every problem at once. */
export function loadConfig(rawEnv: Env, facts: HostFacts, readTextFile: ReadTextFile): LoadedConfig {
  const links = dropServiceLinks(rawEnv, [ENV.smtpPort, ENV.relayPort, ENV.healthPort]);
  const { env, problems: fileProblems } = resolveSecretFiles(links.env, readTextFile);
  const problems: ConfigProblem[] = [...fileProblems];
  const values = cleanEnv(env, envSpecs(facts), {
    // envalid's own reporter exits and prints raw values; collect names and messages only.
    reporter: ({ errors }) => {
      for (const [variable, error] of Object.entries(errors)) {
        const message = error instanceof EnvMissingError ? 'is required' : (error?.message ?? 'is invalid');
        problems.push({ variable, message });
      }
    },
  });

  const credentials = resolveCredentials(env, env[ENV.relayHost] ?? GMAIL_HOST, problems);
  const { overrides, problems: overrideProblems } = parseParameterOverrides(env, facts.postfixParameters);
  problems.push(...overrideProblems);
  // envalid throws on reading a variable that failed validation: combine only the valid ones.
  const failed = new Set(problems.map((problem) => problem.variable));
  const valid = <K extends keyof typeof values>(name: K) => (failed.has(name as string) ? undefined : values[name]);
  problems.push(
    ...checkCombinations(
      {
        relayHost: valid(ENV.relayHost),
        relayPort: valid(ENV.relayPort),
        allowedNetworks: valid(ENV.allowedNetworks),
        allowOpenRelay: valid(ENV.allowOpenRelay),
        rewriteSender: valid(ENV.rewriteSender),
        smtpBind: valid(ENV.smtpBind),
        smtpPort: valid(ENV.smtpPort),
        healthPort: valid(ENV.healthPort),
        inetProtocols: valid(ENV.inetProtocols),
        tlsLevel: valid(ENV.relayTlsLevel),
        caFile: env[ENV.relayTlsCaFile] === undefined ? undefined : valid(ENV.relayTlsCaFile),
      },
      credentials,
      readTextFile,
    ),
  );
  if (problems.length > 0) throw new ConfigError(problems);

  const warnings = [...links.warnings, ...findQuotedValues(env), ...adviseOn(values, credentials)];
  if (values[ENV.relayTlsLevel] === 'encrypt') {
    warnings.push(`${ENV.relayTlsLevel}=encrypt: the relay's certificate is not verified, so a man in the middle could read the password`);
  }
  const tooWide = tooWideNetworks(values[ENV.allowedNetworks]);
  if (values[ENV.allowOpenRelay] && tooWide.length > 0) {
    warnings.push(`${ENV.allowOpenRelay}=yes: anyone in ${tooWide.join(', ')} may relay mail through your account`);
  }

  const config: Config = {
    relay: {
      host: values[ENV.relayHost],
      port: values[ENV.relayPort],
      tlsLevel: values[ENV.relayTlsLevel],
      wrapperMode: values[ENV.relayPort] === 465,
      caFile: values[ENV.relayTlsCaFile],
      credentials,
    },
    listen: { port: values[ENV.smtpPort], bind: values[ENV.smtpBind] },
    allowedNetworks: values[ENV.allowedNetworks],
    allowedSenderDomains: values[ENV.allowedSenderDomains],
    rewriteSenderTo: values[ENV.rewriteSender] ? credentials?.user : undefined,
    overrides,
    hostname: values[ENV.mailHostname],
    messageSizeLimit: values[ENV.messageSizeLimit],
    // IPv4 unless IPv6 is asked for: by INET_PROTOCOLS, or by listening on an IPv6 address.
    inetProtocols: values[ENV.inetProtocols] ?? (isIPv6(values[ENV.smtpBind] ?? '') ? 'all' : 'ipv4'),
    logFormat: values[ENV.logFormat],
    queueRetrySeconds: values[ENV.queueRetry],
    shutdownGraceSeconds: values[ENV.shutdownGrace],
    healthPort: values[ENV.healthPort],
    preflight: values[ENV.preflight],
    rateLimitPerMinute: values[ENV.rateLimit],
  };
  return { config, warnings };
}

const GMAIL_PORTS = [587, 465, 25];
const WIDEST_PREFIX = { 4: 8, 6: 16 } as const;

/** Values that passed their own validation; undefined where they did not. */
interface ValidValues {
  readonly relayHost: string | undefined;
  readonly relayPort: number | undefined;
  readonly allowedNetworks: readonly string[] | undefined;
  readonly allowOpenRelay: boolean | undefined;
  readonly rewriteSender: boolean | undefined;
  readonly smtpBind: string | undefined;
  readonly smtpPort: number | undefined;
  readonly healthPort: number | undefined;
  readonly inetProtocols: 'ipv4' | 'ipv6' | 'all' | undefined;
  readonly tlsLevel: 'secure' | 'encrypt' | undefined;
  /** Only when RELAY_TLS_CA_FILE is set: the system bundle is part of the image. */
  readonly caFile: string | undefined;
}

/** Settings that are each fine alone but cannot work together. */
function checkCombinations(values: ValidValues, credentials: Credentials | undefined, readTextFile: ReadTextFile): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const bindFamily = values.smtpBind === undefined ? undefined : isIPv6(values.smtpBind) ? 'ipv6' : 'ipv4';
  if (bindFamily !== undefined && values.inetProtocols !== undefined && values.inetProtocols !== 'all' && values.inetProtocols !== bindFamily) {
    problems.push({
      variable: ENV.inetProtocols,
      message: `is ${values.inetProtocols} but ${ENV.smtpBind}=${values.smtpBind} is an ${bindFamily === 'ipv6' ? 'IPv6' : 'IPv4'} address; set ${bindFamily} or all`,
    });
  }
  if (values.healthPort !== undefined && values.healthPort === values.smtpPort) {
    problems.push({ variable: ENV.healthPort, message: `is the same port as ${ENV.smtpPort} (${values.smtpPort}); pick another` });
  }
  if (values.caFile !== undefined && values.tlsLevel === 'secure') {
    try {
      readTextFile(values.caFile);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push({ variable: ENV.relayTlsCaFile, message: `cannot read the file ${values.caFile} (${reason}); mount the CA bundle there or fix the path` });
    }
  }
  if (values.relayHost && values.relayPort && isGmail(values.relayHost) && !GMAIL_PORTS.includes(values.relayPort)) {
    problems.push({ variable: ENV.relayPort, message: "smtp.gmail.com takes mail on 587 (STARTTLS) or 465 (TLS); use one of those" });
  }
  const tooWide = tooWideNetworks(values.allowedNetworks ?? []);
  if (tooWide.length > 0 && values.allowOpenRelay === false) {
    problems.push({
      variable: ENV.allowedNetworks,
      message: `${tooWide.join(', ')} is wider than /8 (IPv4) or /16 (IPv6): anyone there could send mail as you. Narrow it, or set ${ENV.allowOpenRelay}=yes if you really mean it`,
    });
  }
  if (values.rewriteSender && !credentials?.user.includes('@')) {
    problems.push({
      variable: ENV.rewriteSender,
      message: credentials ? 'needs a login that is an e-mail address to rewrite senders to' : 'needs credentials: senders are rewritten to the login address',
    });
  }
  return problems;
}

/** Settings that work but are probably not what the user meant. */
function adviseOn(
  values: { readonly [ENV.shutdownGrace]: number; readonly [ENV.relayHost]: string },
  credentials: Credentials | undefined,
): string[] {
  const advice: string[] = [];
  if (values[ENV.shutdownGrace] > DOCKER_STOP_TIMEOUT - 2) {
    advice.push(
      `${ENV.shutdownGrace}=${values[ENV.shutdownGrace]}: Docker kills a container ${DOCKER_STOP_TIMEOUT} s after docker stop by default; raise that too (docker run --stop-timeout, compose stop_grace_period, Kubernetes terminationGracePeriodSeconds)`,
    );
  }
  if (isGmail(values[ENV.relayHost]) && credentials && !/^[a-z]{16}$/.test(credentials.pass)) {
    advice.push(`${ENV.gmailPass}: this does not look like a Gmail app password (16 letters); Gmail refuses account passwords for SMTP`);
  }
  return advice;
}

/** Docker's default grace between SIGTERM and SIGKILL. */
const DOCKER_STOP_TIMEOUT = 10;

function tooWideNetworks(networks: readonly string[]): string[] {
  return networks.filter((network) => {
    const cidr = parseCidr(network)!;
    return cidr.prefix < WIDEST_PREFIX[cidr.family];
  });
}

function isGmail(host: string): boolean {
  return host.toLowerCase().replace(/\.$/, '') === GMAIL_HOST;
}

function resolveCredentials(env: Env, relayHost: string, problems: ConfigProblem[]): Credentials | undefined {
  const gmailUser = env[ENV.gmailUser];
  const gmailPass = env[ENV.gmailPass] ?? env[ENV.gmailPassword];
  const relayUser = env[ENV.relayUser];
  const relayPass = env[ENV.relayPass];
  const usesGmail = gmailUser !== undefined || gmailPass !== undefined;
  const usesRelay = relayUser !== undefined || relayPass !== undefined;

  if (env[ENV.gmailPass] !== undefined && env[ENV.gmailPassword] !== undefined) {
    problems.push({ variable: ENV.gmailPassword, message: `is an alias of ${ENV.gmailPass}; set only one of them` });
  }
  if (usesGmail && usesRelay) {
    problems.push({
      variable: relayUser !== undefined ? ENV.relayUser : ENV.relayPass,
      message: `cannot be combined with ${ENV.gmailUser}/${ENV.gmailPass}; use GMAIL_* for Gmail or RELAY_* for another relay`,
    });
    return undefined;
  }
  const credentials = usesRelay
    ? pair(ENV.relayUser, relayUser, ENV.relayPass, relayPass, problems)
    : usesGmail || isGmail(relayHost)
      ? pair(ENV.gmailUser, gmailUser, env[ENV.gmailPassword] !== undefined ? ENV.gmailPassword : ENV.gmailPass, gmailPass, problems)
      : undefined;
  if (credentials === undefined) return undefined;
  const passVariable = usesRelay ? ENV.relayPass : ENV.gmailPass;
  // postmap trims blanks around a map value: such a password would silently arrive shortened.
  if (/^[ \t]|[ \t]$/.test(credentials.pass)) {
    problems.push({ variable: passVariable, message: 'starts or ends with a space or tab, which Postfix cannot keep in a password; remove the stray blank' });
  }
  return isGmail(relayHost) ? { ...credentials, pass: withoutDisplaySpaces(credentials.pass) } : credentials;
}

function pair(
  userVariable: string,
  user: string | undefined,
  passVariable: string,
  pass: string | undefined,
  problems: ConfigProblem[],
): Credentials | undefined {
  // A NAME_FILE that could not be read is already reported; "NAME is required" would only repeat it.
  const reported = (variable: string) => problems.some((problem) => problem.variable === `${variable}_FILE`);
  if (user === undefined && !reported(userVariable)) problems.push({ variable: userVariable, message: 'is required (the login name for the relay)' });
  if (pass === undefined && !reported(passVariable)) problems.push({ variable: passVariable, message: 'is required (the password for the relay)' });
  return user !== undefined && pass !== undefined ? { user, pass } : undefined;
}

function withoutDisplaySpaces(password: string): string {
  return GMAIL_APP_PASSWORD_DISPLAY_FORM.test(password) ? password.replaceAll(' ', '') : password;
}

/** Docker's default hostname is a bare container id, which some servers refuse in EHLO. */
function fullyQualified(hostname: string): string {
  return hostname.includes('.') ? hostname : `${hostname}.localdomain`;
}
