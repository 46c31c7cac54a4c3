import { describe, expect, it, vi } from 'vitest';
import type { HostFacts } from '../../entrypoint/config/config.js';
import { ConfigError } from '../../entrypoint/config/config-error.js';
import type { ConfigProblem } from '../../entrypoint/config/config-error.js';
import { loadConfig } from '../../entrypoint/config/load-config.js';
import type { LoadedConfig } from '../../entrypoint/config/load-config.js';
import { resolveSecretFiles } from '../../entrypoint/config/resolve-secret-files.js';
import type { Env, ReadTextFile } from '../../entrypoint/config/resolve-secret-files.js';
import { networkList } from '../../entrypoint/config/validators.js';

/** A few of the names `postconf -d` lists, for POSTFIX_* overrides. */
const POSTFIX_PARAMETERS: ReadonlySet<string> = new Set(['smtp_tls_loglevel', 'smtp_tls_CAfile', 'myhostname', 'mynetworks']);
const FACTS: HostFacts = { hostname: '3f2a9c1b7d6e', interfaceNetworks: ['172.17.0.0/16'], postfixParameters: POSTFIX_PARAMETERS };
const USER = 'someone@gmail.com';
/** Distinctive enough that a leak anywhere in a message is unmistakable. */
const SECRET = 'S3cr3t-p@ss';
const GMAIL: Env = { GMAIL_USER: USER, GMAIL_PASS: 'abcdefghijklmnop' };

/** A tiny in-memory file system; a missing path fails like readFileSync does. */
function filesFrom(files: Record<string, string>): ReadTextFile {
  return (path) => {
    const content = files[path];
    if (content === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
    return content;
  };
}

const noFiles: ReadTextFile = filesFrom({});

/** Warnings other than the advice that a Gmail password does not look like an app password. */
function quoteWarnings(warnings: readonly string[]): string[] {
  return warnings.filter((warning) => !warning.includes('app password'));
}

function load(env: Env, readTextFile: ReadTextFile = noFiles, facts: HostFacts = FACTS): LoadedConfig {
  return loadConfig(env, facts, readTextFile);
}

function configErrorOf(env: Env, readTextFile: ReadTextFile = noFiles): ConfigError {
  try {
    load(env, readTextFile);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

function problemOf(error: ConfigError, variable: string): ConfigProblem {
  const problem = error.problems.find((p) => p.variable === variable);
  if (problem === undefined) throw new Error(`no problem for ${variable} in: ${error.message}`);
  return problem;
}

/** Every text a ConfigError can put in front of a person. */
function textsOf(error: ConfigError): string[] {
  return [error.message, String(error), ...error.problems.flatMap((p) => [p.variable, p.message])];
}

describe('loadConfig defaults (only GMAIL_USER and GMAIL_PASS set)', () => {
  it('relays to [smtp.gmail.com]:587 over verified STARTTLS and listens on port 25', () => {
    const { config, warnings } = load(GMAIL);
    expect(config).toEqual({
      relay: {
        host: 'smtp.gmail.com',
        port: 587,
        tlsLevel: 'secure',
        wrapperMode: false,
        caFile: '/etc/ssl/certs/ca-certificates.crt',
        credentials: { user: USER, pass: 'abcdefghijklmnop' },
      },
      listen: { port: 25, bind: undefined },
      allowedNetworks: ['127.0.0.0/8', '::1/128', '172.17.0.0/16'],
      allowedSenderDomains: [],
      rewriteSenderTo: undefined,
      overrides: [],
      hostname: '3f2a9c1b7d6e.localdomain',
      messageSizeLimit: 35882577,
      inetProtocols: 'ipv4',
      logFormat: 'plain',
      queueRetrySeconds: 60,
      shutdownGraceSeconds: 8,
      healthPort: undefined,
      preflight: 'on',
      rateLimitPerMinute: undefined,
    });
    expect(warnings).toEqual([]);
  });

  it('allows loopback plus every interface network of the container', () => {
    const facts: HostFacts = { ...FACTS, hostname: 'h', interfaceNetworks: ['172.18.0.0/16', '10.89.0.0/24', 'fd00:dead:beef::/64'] };
    expect(load(GMAIL, noFiles, facts).config.allowedNetworks).toEqual([
      '127.0.0.0/8',
      '::1/128',
      '172.18.0.0/16',
      '10.89.0.0/24',
      'fd00:dead:beef::/64',
    ]);
  });

  it('allows only loopback when the container has no interface networks', () => {
    expect(load(GMAIL, noFiles, { ...FACTS, hostname: 'h', interfaceNetworks: [] }).config.allowedNetworks).toEqual(['127.0.0.0/8', '::1/128']);
  });

  it('keeps a hostname that already has a dot', () => {
    expect(load(GMAIL, noFiles, { ...FACTS, hostname: 'relay.example.com' }).config.hostname).toBe('relay.example.com');
  });

  it('lets MAIL_HOSTNAME override the hostname as given', () => {
    expect(load({ ...GMAIL, MAIL_HOSTNAME: 'mail.example.org' }).config.hostname).toBe('mail.example.org');
  });

  it('ignores variables it does not know', () => {
    expect(load({ ...GMAIL, PATH: '/usr/bin', HOME: '/root', NODE_ENV: 'production' }).config).toEqual(load(GMAIL).config);
  });
});

describe('loadConfig reports every problem at once', () => {
  it('names both GMAIL_USER and GMAIL_PASS in one ConfigError when neither is set', () => {
    const error = configErrorOf({});
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['GMAIL_PASS', 'GMAIL_USER']);
    expect(error.message).toContain('GMAIL_USER');
    expect(error.message).toContain('GMAIL_PASS');
    expect(error.message.split('\n')).toHaveLength(2);
  });

  it('reports a bad SMTP_PORT and a missing password together', () => {
    const error = configErrorOf({ GMAIL_USER: USER, SMTP_PORT: '99999' });
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['GMAIL_PASS', 'SMTP_PORT']);
    expect(problemOf(error, 'SMTP_PORT').message).toMatch(/port number/);
    expect(problemOf(error, 'GMAIL_PASS').message).toMatch(/required/);
  });

  it('reports a missing GMAIL_USER when only the password is set', () => {
    const error = configErrorOf({ GMAIL_PASS: 'abcdefghijklmnop' });
    expect(error.problems.map((p) => p.variable)).toEqual(['GMAIL_USER']);
  });

  it.each([
    ['SMTP_PORT', '0'],
    ['SMTP_PORT', '65536'],
    ['SMTP_PORT', 'smtp'],
    ['SMTP_PORT', '25 '],
    ['SMTP_BIND', 'localhost'],
    ['MESSAGE_SIZE_LIMIT', '0'],
    ['MESSAGE_SIZE_LIMIT', '10M'],
    ['INET_PROTOCOLS', 'ipv5'],
    ['LOG_FORMAT', 'xml'],
    ['RELAY_TLS_LEVEL', 'none'],
    ['RELAY_TLS_LEVEL', 'may'],
    ['GMAIL_USER', 'someone'],
    ['MAIL_HOSTNAME', 'not a host'],
  ])('refuses %s=%j and names the variable', (variable, value) => {
    const error = configErrorOf({ ...GMAIL, [variable]: value });
    expect(error.problems.map((p) => p.variable)).toEqual([variable]);
  });

  it('accepts the other documented values', () => {
    const { config } = load({
      ...GMAIL,
      SMTP_PORT: '2525',
      SMTP_BIND: '127.0.0.1',
      MESSAGE_SIZE_LIMIT: '10240000',
      INET_PROTOCOLS: 'all',
      LOG_FORMAT: 'JSON',
      RELAY_TLS_CA_FILE: '/run/ca.pem',
    }, filesFrom({ '/run/ca.pem': '-----BEGIN CERTIFICATE-----' }));
    expect(config.listen).toEqual({ port: 2525, bind: '127.0.0.1' });
    expect(config.messageSizeLimit).toBe(10240000);
    expect(config.inetProtocols).toBe('all');
    expect(config.logFormat).toBe('json');
    expect(config.relay.caFile).toBe('/run/ca.pem');
  });

  it('reports a bad ALLOW_OPEN_RELAY with the default networks', () => {
    expect(configErrorOf({ ...GMAIL, ALLOW_OPEN_RELAY: 'maybe' }).problems.map((p) => p.variable)).toEqual(['ALLOW_OPEN_RELAY']);
  });

  it('accepts an IPv6 SMTP_BIND', () => {
    expect(load({ ...GMAIL, SMTP_BIND: '::1' }).config.listen.bind).toBe('::1');
  });

  // Regression: envalid leaves an invalid variable out of its result and its strict proxy throws a
  // ReferenceError on reading it; checks that combine variables must not read the invalid ones.
  it('reports a bad ALLOW_OPEN_RELAY when ALLOWED_NETWORKS is too wide', () => {
    const error = configErrorOf({ ...GMAIL, ALLOWED_NETWORKS: '0.0.0.0/0', ALLOW_OPEN_RELAY: 'maybe' });
    expect(error.problems.map((p) => p.variable)).toContain('ALLOW_OPEN_RELAY');
  });

  it.each([
    ['RELAY_HOST', 'not a host!'],
    ['RELAY_HOST', ''],
    ['RELAY_PORT', '-1'],
    ['RELAY_PORT', 'smtps'],
    ['ALLOWED_NETWORKS', 'bogus'],
    ['ALLOWED_NETWORKS', ''],
    ['ALLOWED_NETWORKS', ' , '],
    ['REWRITE_SENDER', 'maybe'],
  ])('reports an invalid %s=%j as a ConfigError, together with the other problems', (variable, value) => {
    const error = configErrorOf({ GMAIL_USER: USER, SMTP_PORT: 'x', [variable]: value });
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['GMAIL_PASS', 'SMTP_PORT', variable].sort());
  });
});

describe('loadConfig never shows the password', () => {
  const leaks: [string, Env, Record<string, string>?][] = [
    ['a password with CR', { GMAIL_USER: USER, GMAIL_PASS: `${SECRET}\rX` }],
    ['a password with CRLF', { GMAIL_USER: USER, GMAIL_PASS: `${SECRET}\r\n` }],
    ['a password with NUL', { GMAIL_USER: USER, GMAIL_PASS: `${SECRET}\0` }],
    ['a password without a user', { GMAIL_PASS: SECRET }],
    ['a password plus a bad port', { GMAIL_PASS: SECRET, SMTP_PORT: SECRET }],
    ['GMAIL_PASS and GMAIL_PASSWORD both set', { GMAIL_USER: USER, GMAIL_PASS: SECRET, GMAIL_PASSWORD: SECRET }],
    ['GMAIL_* mixed with RELAY_*', { GMAIL_USER: USER, GMAIL_PASS: SECRET, RELAY_USER: 'relay-user', RELAY_PASS: SECRET }],
    ['RELAY_PASS without RELAY_USER', { RELAY_HOST: 'smtp.example.com', RELAY_PASS: `${SECRET}\n` }],
    ['a bad GMAIL_USER', { GMAIL_USER: 'not-an-address', GMAIL_PASS: SECRET }],
    ['GMAIL_PASS and GMAIL_PASS_FILE both set', { GMAIL_USER: USER, GMAIL_PASS: SECRET, GMAIL_PASS_FILE: '/run/secrets/pass' }, { '/run/secrets/pass': SECRET }],
    ['a secret file with two trailing newlines', { GMAIL_USER: USER, GMAIL_PASS_FILE: '/run/secrets/pass' }, { '/run/secrets/pass': `${SECRET}\n\n` }],
  ];

  it.each(leaks)('%s', (_name, env, files = {}) => {
    const error = configErrorOf(env, filesFrom(files));
    for (const text of textsOf(error)) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('S3cr3t');
    }
  });

  it('does not show a quoted password in its warning', () => {
    const { warnings } = load({ GMAIL_USER: USER, GMAIL_PASS: `"${SECRET}"` });
    expect(warnings.join('\n')).not.toContain('S3cr3t');
    expect(quoteWarnings(warnings)).toHaveLength(1);
    expect(warnings[0]).toContain('GMAIL_PASS');
    expect(warnings[0]).not.toContain('S3cr3t');
  });
});

describe('loadConfig refuses line breaks and NUL', () => {
  it.each([
    ['GMAIL_PASS', 'pass\rword'],
    ['GMAIL_PASS', 'pass\nword'],
    ['GMAIL_PASS', 'pass\0word'],
    ['GMAIL_PASS', 'password\n'],
    ['GMAIL_USER', `${USER}\n`],
    ['GMAIL_USER', `${USER}\0`],
    ['RELAY_TLS_CA_FILE', '/run/ca.pem\nsmtp_tls_security_level = none'],
    ['RELAY_TLS_CA_FILE', '/run/ca.pem\r'],
    ['MAIL_HOSTNAME', 'mail.example.org\nrelayhost = evil.example'],
  ])('%s=%j', (variable, value) => {
    const error = configErrorOf({ ...GMAIL, [variable]: value });
    expect(error.problems.map((p) => p.variable)).toEqual([variable]);
  });

  it.each(['\r', '\n', '\0'])('in RELAY_PASS (%j) for a non-Gmail relay', (character) => {
    const error = configErrorOf({ RELAY_HOST: 'smtp.example.com', RELAY_USER: 'app', RELAY_PASS: `pass${character}word` });
    expect(problemOf(error, 'RELAY_PASS').message).toMatch(/line break|NUL/);
  });
});

describe('loadConfig credentials', () => {
  it('accepts GMAIL_PASSWORD as an alias of GMAIL_PASS', () => {
    expect(load({ GMAIL_USER: USER, GMAIL_PASSWORD: 'qrstuvwxyzabcdef' }).config.relay.credentials).toEqual({
      user: USER,
      pass: 'qrstuvwxyzabcdef',
    });
  });

  it('drops the display spaces from a GMAIL_PASSWORD too', () => {
    expect(load({ GMAIL_USER: USER, GMAIL_PASSWORD: 'abcd efgh ijkl mnop' }).config.relay.credentials?.pass).toBe('abcdefghijklmnop');
  });

  it('refuses GMAIL_PASS and GMAIL_PASSWORD together, even when equal', () => {
    const error = configErrorOf({ GMAIL_USER: USER, GMAIL_PASS: 'abcdefghijklmnop', GMAIL_PASSWORD: 'abcdefghijklmnop' });
    expect(error.problems.map((p) => p.variable)).toEqual(['GMAIL_PASSWORD']);
    expect(problemOf(error, 'GMAIL_PASSWORD').message).toContain('GMAIL_PASS');
  });

  it.each([
    { GMAIL_USER: USER, GMAIL_PASS: 'abcdefghijklmnop', RELAY_USER: 'app', RELAY_PASS: 'secret' },
    { GMAIL_USER: USER, GMAIL_PASS: 'abcdefghijklmnop', RELAY_HOST: 'smtp.example.com', RELAY_USER: 'app', RELAY_PASS: 'x' },
    { GMAIL_USER: USER, RELAY_PASS: 'secret' },
    { GMAIL_PASS: 'abcdefghijklmnop', RELAY_USER: 'app' },
  ])('refuses GMAIL_* mixed with RELAY_* (%o)', (env) => {
    const error = configErrorOf(env);
    expect(error.problems).toHaveLength(1);
    expect(error.message).toMatch(/GMAIL_/);
    expect(error.message).toMatch(/RELAY_/);
  });

  it('uses RELAY_USER/RELAY_PASS byte-exact for another relay', () => {
    const { config } = load({ RELAY_HOST: 'smtp.example.com', RELAY_USER: 'app', RELAY_PASS: 'abcd efgh ijkl mnop' });
    expect(config.relay.host).toBe('smtp.example.com');
    expect(config.relay.credentials).toEqual({ user: 'app', pass: 'abcd efgh ijkl mnop' });
  });

  it.each([
    [{ RELAY_HOST: 'smtp.example.com', RELAY_USER: 'app' }, 'RELAY_PASS'],
    [{ RELAY_HOST: 'smtp.example.com', RELAY_PASS: 'secret' }, 'RELAY_USER'],
  ])('wants both halves of a RELAY_* pair (%o)', (env, missing) => {
    expect(configErrorOf(env).problems.map((p) => p.variable)).toEqual([missing]);
  });

  it('attempts no AUTH for a non-Gmail RELAY_HOST without credentials', () => {
    const { config, warnings } = load({ RELAY_HOST: 'mail.isp.example', RELAY_PORT: '25' });
    expect(config.relay.credentials).toBeUndefined();
    expect(config.relay.host).toBe('mail.isp.example');
    expect(config.relay.port).toBe(25);
    expect(warnings).toEqual([]);
  });

  it('accepts an IP address as RELAY_HOST', () => {
    expect(load({ RELAY_HOST: '192.0.2.25' }).config.relay.credentials).toBeUndefined();
  });

  it.each(['smtp.gmail.com', 'SMTP.Gmail.COM', 'smtp.gmail.com.'])('still wants Gmail credentials for RELAY_HOST=%s', (host) => {
    expect(configErrorOf({ RELAY_HOST: host }).problems.map((p) => p.variable).sort()).toEqual(['GMAIL_PASS', 'GMAIL_USER']);
  });

  it("drops the spaces of Google's display form of an app password", () => {
    expect(load({ GMAIL_USER: USER, GMAIL_PASS: 'abcd efgh ijkl mnop' }).config.relay.credentials).toEqual({
      user: USER,
      pass: 'abcdefghijklmnop',
    });
  });

  it.each([
    'abcd efgh ijkl mnopq',
    'abc defgh ijkl mnop',
    'Abcd efgh ijkl mnop',
    'abcd efgh ijkl mn0p',
    'abcd  efgh ijkl mnop',
    'abcd\tefgh ijkl mnop',
    'abcd efgh ijkl',
    'correct horse battery staple',
    'abcdefghijklmnop',
  ])('keeps any other password byte-exact: %j', (pass) => {
    expect(load({ GMAIL_USER: USER, GMAIL_PASS: pass }).config.relay.credentials?.pass).toBe(pass);
  });

  // postmap trims blanks around a map value, so these could not arrive byte-exact: refuse them.
  it.each([' abcd efgh ijkl mnop', 'abcd efgh ijkl mnop ', ' leading and trailing ', 'tab\t'])('refuses a password with a leading or trailing blank: %j', (pass) => {
    expect(() => load({ GMAIL_USER: USER, GMAIL_PASS: pass })).toThrow(/GMAIL_PASS: starts or ends with a space or tab/);
  });

  it('applies the display form to RELAY_PASS too when the relay is Gmail', () => {
    expect(load({ RELAY_USER: USER, RELAY_PASS: 'abcd efgh ijkl mnop' }).config.relay.credentials?.pass).toBe('abcdefghijklmnop');
  });
});

describe('loadConfig NAME_FILE secrets', () => {
  it.each([
    ['one trailing newline is stripped', 'abcdefghijklmnop\n', 'abcdefghijklmnop'],
    ['a trailing CRLF is stripped', 'abcdefghijklmnop\r\n', 'abcdefghijklmnop'],
    ['no trailing newline is kept as is', 'abcdefghijklmnop', 'abcdefghijklmnop'],
    ['spaces inside are kept', 'pass word  x\n', 'pass word  x'],
  ])('%s', (_name, content, expected) => {
    const files = filesFrom({ '/run/secrets/gmail_pass': content });
    const { config } = load({ GMAIL_USER: USER, GMAIL_PASS_FILE: '/run/secrets/gmail_pass' }, files);
    expect(config.relay.credentials?.pass).toBe(expected);
  });

  it('reads the display form from a file and still drops its spaces', () => {
    const files = filesFrom({ '/run/secrets/gmail_pass': 'abcd efgh ijkl mnop\n' });
    expect(load({ GMAIL_USER: USER, GMAIL_PASS_FILE: '/run/secrets/gmail_pass' }, files).config.relay.credentials?.pass).toBe(
      'abcdefghijklmnop',
    );
  });

  it('keeps one of two trailing newlines, which the line-break check then refuses', () => {
    const files = filesFrom({ '/run/secrets/gmail_pass': 'abcdefghijklmnop\n\n' });
    expect(resolveSecretFiles({ GMAIL_PASS_FILE: '/run/secrets/gmail_pass' }, files).env['GMAIL_PASS']).toBe('abcdefghijklmnop\n');
    const error = configErrorOf({ GMAIL_USER: USER, GMAIL_PASS_FILE: '/run/secrets/gmail_pass' }, files);
    expect(error.problems.map((p) => p.variable)).toEqual(['GMAIL_PASS']);
    expect(problemOf(error, 'GMAIL_PASS').message).toMatch(/line break/);
  });

  it('resolves every credential variable from files', () => {
    const files = filesFrom({ '/s/user': 'app\n', '/s/pass': 'p4ss\n' });
    const { config } = load({ RELAY_HOST: 'smtp.example.com', RELAY_USER_FILE: '/s/user', RELAY_PASS_FILE: '/s/pass' }, files);
    expect(config.relay.credentials).toEqual({ user: 'app', pass: 'p4ss' });
    const gmail = load({ GMAIL_USER_FILE: '/s/gmail_user', GMAIL_PASSWORD_FILE: '/s/pass' }, filesFrom({ '/s/gmail_user': `${USER}\n`, '/s/pass': 'p4ss' }));
    expect(gmail.config.relay.credentials).toEqual({ user: USER, pass: 'p4ss' });
  });

  it('names NAME_FILE and the path when the file cannot be read, with the other problems', () => {
    const error = configErrorOf({ GMAIL_PASS_FILE: '/run/secrets/missing' });
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['GMAIL_PASS_FILE', 'GMAIL_USER']);
    const problem = problemOf(error, 'GMAIL_PASS_FILE');
    expect(problem.message).toContain('/run/secrets/missing');
    expect(problem.message).toContain('ENOENT');
  });

  it('says "unreadable" when the read error has no code', () => {
    const read: ReadTextFile = () => {
      throw new Error('boom');
    };
    const error = configErrorOf({ GMAIL_USER: USER, GMAIL_PASS_FILE: '/run/secrets/pass' }, read);
    expect(problemOf(error, 'GMAIL_PASS_FILE').message).toMatch(/\/run\/secrets\/pass.*unreadable/);
  });

  it('refuses NAME together with NAME_FILE without reading the file', () => {
    const read = vi.fn(filesFrom({ '/run/secrets/pass': 'other\n' }));
    const error = configErrorOf({ GMAIL_USER: USER, GMAIL_PASS: 'abcdefghijklmnop', GMAIL_PASS_FILE: '/run/secrets/pass' }, read);
    expect(error.problems.map((p) => p.variable)).toEqual(['GMAIL_PASS']);
    expect(problemOf(error, 'GMAIL_PASS').message).toContain('GMAIL_PASS_FILE');
    expect(read).not.toHaveBeenCalled();
  });

  it('does not pass NAME_FILE itself on', () => {
    const { env } = resolveSecretFiles({ GMAIL_USER_FILE: '/u', OTHER: 'x' }, filesFrom({ '/u': USER }));
    expect(env).toEqual({ GMAIL_USER: USER, OTHER: 'x' });
  });
});

describe('loadConfig relay TLS', () => {
  it('switches to TLS from the first byte for RELAY_PORT=465', () => {
    const { relay } = load({ ...GMAIL, RELAY_PORT: '465' }).config;
    expect(relay.port).toBe(465);
    expect(relay.wrapperMode).toBe(true);
  });

  it.each(['25', '587'])('uses STARTTLS for RELAY_PORT=%s', (relayPort) => {
    expect(load({ ...GMAIL, RELAY_PORT: relayPort }).config.relay.wrapperMode).toBe(false);
  });

  it('refuses a port Gmail does not listen on, but not for another relay', () => {
    expect(configErrorOf({ ...GMAIL, RELAY_PORT: '2525' }).problems.map((p) => p.variable)).toEqual(['RELAY_PORT']);
    const { relay } = load({ RELAY_HOST: 'smtp.example.com', RELAY_PORT: '2525' }).config;
    expect(relay.port).toBe(2525);
    expect(relay.wrapperMode).toBe(false);
  });

  it.each(['encrypt', 'ENCRYPT', ' encrypt '])('warns about RELAY_TLS_LEVEL=%j', (level) => {
    const { config, warnings } = load({ ...GMAIL, RELAY_TLS_LEVEL: level });
    expect(config.relay.tlsLevel).toBe('encrypt');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('RELAY_TLS_LEVEL');
  });

  it('does not warn about RELAY_TLS_LEVEL=secure', () => {
    expect(load({ ...GMAIL, RELAY_TLS_LEVEL: 'secure' }).warnings).toEqual([]);
  });
});

describe('loadConfig quoted values', () => {
  it.each([`"${SECRET}"`, `'${SECRET}'`])('names GMAIL_PASS but not its value for %s', (value) => {
    const warnings = quoteWarnings(load({ GMAIL_USER: USER, GMAIL_PASS: value }).warnings);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^GMAIL_PASS: /);
    expect(warnings[0]).toMatch(/quote/);
    expect(warnings[0]).not.toContain(SECRET);
  });

  it('keeps the quotes in the value (only a warning)', () => {
    expect(load({ GMAIL_USER: USER, GMAIL_PASS: '"quoted"' }).config.relay.credentials?.pass).toBe('"quoted"');
  });

  it.each([
    ['GMAIL_PASSWORD', { GMAIL_USER: USER }],
    ['RELAY_PASS', { RELAY_HOST: 'smtp.example.com', RELAY_USER: 'app' }],
  ])('hides the value of %s too', (variable, env) => {
    const warnings = quoteWarnings(load({ ...env, [variable]: `"${SECRET}"` }).warnings);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(variable);
    expect(warnings[0]).not.toContain(SECRET);
  });

  it('names a quoted non-secret variable', () => {
    const { warnings } = load({ ...GMAIL, RELAY_TLS_CA_FILE: '"/run/ca.pem"' }, filesFrom({ '"/run/ca.pem"': 'x' }));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('RELAY_TLS_CA_FILE');
  });

  it('does not warn about quotes inside a value', () => {
    expect(quoteWarnings(load({ GMAIL_USER: USER, GMAIL_PASS: 'a"b\'c' }).warnings)).toEqual([]);
  });
});

describe('loadConfig ALLOWED_NETWORKS', () => {
  it.each([
    ['10.0.0.7/8', ['10.0.0.0/8']],
    ['10.0.0.0/8,192.168.1.0/24', ['10.0.0.0/8', '192.168.1.0/24']],
    ['10.0.0.0/8 192.168.1.0/24', ['10.0.0.0/8', '192.168.1.0/24']],
    [' 10.0.0.0/8 ,\t192.168.1.7/24,, fd00::1/64 ', ['10.0.0.0/8', '192.168.1.0/24', 'fd00::/64']],
    ['192.168.1.5', ['192.168.1.5/32']],
    ['::1', ['::1/128']],
  ])('%j → %j (replacing the default)', (value, expected) => {
    expect(load({ ...GMAIL, ALLOWED_NETWORKS: value }).config.allowedNetworks).toEqual(expected);
  });

  const GARBAGE = '10.0.0.0/8, bogus,300.1.1.1/8 192.168.0.0/33 fd12:3456::/48';

  function expectGarbageNamed(message: string): void {
    expect(message).toContain('bogus');
    expect(message).toContain('300.1.1.1/8');
    expect(message).toContain('192.168.0.0/33');
    expect(message).not.toContain('10.0.0.0/8,');
    expect(message).not.toContain('fd12:3456::/48');
  }

  it('names every garbage entry and only those (the validator alone)', () => {
    expect(() => networkList()._parse(GARBAGE)).toThrow(/not IPv4 or IPv6 networks/);
    try {
      networkList()._parse(GARBAGE);
    } catch (error) {
      expectGarbageNamed((error as Error).message);
    }
  });

  it('names every garbage entry and only those (through loadConfig)', () => {
    const error = configErrorOf({ ...GMAIL, ALLOWED_NETWORKS: GARBAGE });
    expect(error.problems.map((p) => p.variable)).toEqual(['ALLOWED_NETWORKS']);
    expectGarbageNamed(problemOf(error, 'ALLOWED_NETWORKS').message);
  });

  it.each(['0.0.0.0/0', '10.0.0.0/7', '::/0', 'fd00::/8'])('refuses the open relay %s without ALLOW_OPEN_RELAY', (network) => {
    const error = configErrorOf({ ...GMAIL, ALLOWED_NETWORKS: `127.0.0.0/8 ${network}` });
    expect(error.problems.map((p) => p.variable)).toEqual(['ALLOWED_NETWORKS']);
    expect(error.message).toContain('ALLOW_OPEN_RELAY');
  });

  it('accepts the open relay 0.0.0.0/0 with ALLOW_OPEN_RELAY=yes, with a warning', () => {
    const { config, warnings } = load({ ...GMAIL, ALLOWED_NETWORKS: '0.0.0.0/0', ALLOW_OPEN_RELAY: 'yes' });
    expect(config.allowedNetworks).toEqual(['0.0.0.0/0']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('ALLOW_OPEN_RELAY');
  });
});

describe('loadConfig combinations found by trying the image', () => {
  it('drops Kubernetes service links from SMTP_PORT, RELAY_PORT and HEALTH_PORT with a warning', () => {
    const { config, warnings } = load({ ...GMAIL, RELAY_PORT: 'tcp://10.0.0.6:587', SMTP_PORT: 'tcp://10.0.0.7:25' });
    expect(config.relay.port).toBe(587);
    expect(config.listen.port).toBe(25);
    expect(warnings.join('\n')).toMatch(/RELAY_PORT=tcp:\/\/10\.0\.0\.6:587 looks like a Kubernetes service link \(from a Service named "relay"\)/);
    expect(warnings.join('\n')).toMatch(/enableServiceLinks: false/);
  });

  it('turns IPv6 on for an IPv6 SMTP_BIND, and refuses INET_PROTOCOLS=ipv4 with it', () => {
    expect(load({ ...GMAIL, SMTP_BIND: '::1' }).config.inetProtocols).toBe('all');
    expect(load({ ...GMAIL, SMTP_BIND: '127.0.0.1' }).config.inetProtocols).toBe('ipv4');
    expect(configErrorOf({ ...GMAIL, SMTP_BIND: '::1', INET_PROTOCOLS: 'ipv4' }).message).toMatch(/INET_PROTOCOLS: is ipv4 but SMTP_BIND=::1 is an IPv6 address/);
  });

  it('refuses HEALTH_PORT equal to SMTP_PORT', () => {
    expect(configErrorOf({ ...GMAIL, SMTP_PORT: '2525', HEALTH_PORT: '2525' }).message).toMatch(/HEALTH_PORT: is the same port as SMTP_PORT/);
  });

  it('refuses a RELAY_TLS_CA_FILE that cannot be read, naming the path', () => {
    expect(configErrorOf({ ...GMAIL, RELAY_TLS_CA_FILE: '/nope.pem' }).message).toMatch(/RELAY_TLS_CA_FILE: cannot read the file \/nope\.pem \(ENOENT\)/);
    // With RELAY_TLS_LEVEL=encrypt the CA file is not used, so it is not read either.
    expect(load({ ...GMAIL, RELAY_TLS_CA_FILE: '/nope.pem', RELAY_TLS_LEVEL: 'encrypt' }).config.relay.caFile).toBe('/nope.pem');
  });

  it('advises raising Docker\'s stop timeout with a long SHUTDOWN_GRACE, and flags a non-app Gmail password', () => {
    expect(load({ ...GMAIL, SHUTDOWN_GRACE: '30' }).warnings.join('\n')).toMatch(/SHUTDOWN_GRACE=30: Docker kills a container 10 s after docker stop/);
    expect(load({ ...GMAIL, SHUTDOWN_GRACE: '8' }).warnings).toEqual([]);
    expect(load({ GMAIL_USER: USER, GMAIL_PASS: 'short' }).warnings.join('\n')).toMatch(/does not look like a Gmail app password/);
  });
});

describe('loadConfig with an unreadable secret file', () => {
  it('reports the file once, not also the variable as missing', () => {
    const error = configErrorOf({ GMAIL_USER: USER, GMAIL_PASS_FILE: '/etc' });
    expect(error.problems.map((problem) => problem.variable)).toEqual(['GMAIL_PASS_FILE']);
  });
});
