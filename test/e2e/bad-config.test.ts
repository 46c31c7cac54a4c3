import Docker from 'dockerode';
import { describe, expect, inject, it } from 'vitest';
import { runRelayToExit } from '../../image/smoke/relay-container.js';

const docker = new Docker();
const image = inject('image');
const SECRET = 'Pa55:w#rd$ü-9f3k';
const BASE = { GMAIL_USER: 'someone@gmail.com', GMAIL_PASS: SECRET };

interface BadInput {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Every variable the error output must name. */
  readonly named: readonly string[];
}

// Each case starts from a valid Gmail setup; undefined removes a variable.
const CASES: Record<string, BadInput> = {
  'nothing set': { env: { GMAIL_USER: undefined, GMAIL_PASS: undefined }, named: ['GMAIL_USER', 'GMAIL_PASS'] },
  'no password': { env: { GMAIL_PASS: undefined }, named: ['GMAIL_PASS'] },
  'no user': { env: { GMAIL_USER: undefined }, named: ['GMAIL_USER'] },
  'user is not an address': { env: { GMAIL_USER: 'someone' }, named: ['GMAIL_USER'] },
  'empty password': { env: { GMAIL_PASS: '' }, named: ['GMAIL_PASS'] },
  'password with a line feed': { env: { GMAIL_PASS: `${SECRET}\nrelayhost = evil` }, named: ['GMAIL_PASS'] },
  'password with a carriage return': { env: { GMAIL_PASS: `${SECRET}\r` }, named: ['GMAIL_PASS'] },
  'password and its alias': { env: { GMAIL_PASSWORD: SECRET }, named: ['GMAIL_PASSWORD'] },
  'Gmail and relay credentials mixed': { env: { RELAY_USER: 'other', RELAY_PASS: SECRET }, named: ['RELAY_USER'] },
  'relay user without password': { env: { GMAIL_USER: undefined, GMAIL_PASS: undefined, RELAY_HOST: 'mail.example.com', RELAY_USER: 'me' }, named: ['RELAY_PASS'] },
  'relay password without user': { env: { GMAIL_USER: undefined, GMAIL_PASS: undefined, RELAY_HOST: 'mail.example.com', RELAY_PASS: SECRET }, named: ['RELAY_USER'] },
  'password given twice': { env: { GMAIL_PASS_FILE: '/etc/hostname' }, named: ['GMAIL_PASS'] },
  'password file missing': { env: { GMAIL_PASS: undefined, GMAIL_PASS_FILE: '/run/secrets/nope' }, named: ['GMAIL_PASS_FILE', '/run/secrets/nope'] },
  'user file missing': { env: { GMAIL_USER: undefined, GMAIL_USER_FILE: '/run/secrets/user' }, named: ['GMAIL_USER_FILE', '/run/secrets/user'] },
  'relay host with a space': { env: { RELAY_HOST: 'smtp gmail com' }, named: ['RELAY_HOST'] },
  'relay port 0': { env: { RELAY_PORT: '0' }, named: ['RELAY_PORT'] },
  'relay port too big': { env: { RELAY_PORT: '70000' }, named: ['RELAY_PORT'] },
  'relay port not a number': { env: { RELAY_PORT: 'submission' }, named: ['RELAY_PORT'] },
  'Gmail on a port it does not serve': { env: { RELAY_PORT: '2525' }, named: ['RELAY_PORT'] },
  'TLS level none': { env: { RELAY_TLS_LEVEL: 'none' }, named: ['RELAY_TLS_LEVEL'] },
  'TLS level may': { env: { RELAY_TLS_LEVEL: 'may' }, named: ['RELAY_TLS_LEVEL'] },
  'empty CA file': { env: { RELAY_TLS_CA_FILE: '' }, named: ['RELAY_TLS_CA_FILE'] },
  'listen port negative': { env: { SMTP_PORT: '-1' }, named: ['SMTP_PORT'] },
  'bind to a name': { env: { SMTP_BIND: 'localhost' }, named: ['SMTP_BIND'] },
  'open relay IPv4': { env: { ALLOWED_NETWORKS: '0.0.0.0/0' }, named: ['ALLOWED_NETWORKS', 'ALLOW_OPEN_RELAY'] },
  'open relay IPv6': { env: { ALLOWED_NETWORKS: '::/0' }, named: ['ALLOWED_NETWORKS'] },
  'network wider than /8': { env: { ALLOWED_NETWORKS: '10.0.0.0/8 172.0.0.0/6' }, named: ['ALLOWED_NETWORKS'] },
  'prefix out of range': { env: { ALLOWED_NETWORKS: '10.0.0.0/33' }, named: ['ALLOWED_NETWORKS'] },
  'network list with junk': { env: { ALLOWED_NETWORKS: '192.168.1.0/24, bogus' }, named: ['ALLOWED_NETWORKS', 'bogus'] },
  'open relay switch not yes/no': { env: { ALLOW_OPEN_RELAY: 'maybe' }, named: ['ALLOW_OPEN_RELAY'] },
  'sender domain list with junk': { env: { ALLOWED_SENDER_DOMAINS: 'example.com, not_a domain' }, named: ['ALLOWED_SENDER_DOMAINS'] },
  'hostname with underscore': { env: { MAIL_HOSTNAME: 'mail_relay' }, named: ['MAIL_HOSTNAME'] },
  'size limit 0': { env: { MESSAGE_SIZE_LIMIT: '0' }, named: ['MESSAGE_SIZE_LIMIT'] },
  'size limit with unit': { env: { MESSAGE_SIZE_LIMIT: '10MB' }, named: ['MESSAGE_SIZE_LIMIT'] },
  'unknown protocol': { env: { INET_PROTOCOLS: 'ipv5' }, named: ['INET_PROTOCOLS'] },
  'unknown log format': { env: { LOG_FORMAT: 'xml' }, named: ['LOG_FORMAT'] },
  'rewrite without credentials': { env: { GMAIL_USER: undefined, GMAIL_PASS: undefined, RELAY_HOST: 'mail.example.com', REWRITE_SENDER: 'yes' }, named: ['REWRITE_SENDER'] },
  'unknown Postfix parameter': { env: { POSTFIX_no_such_parameter: '1' }, named: ['POSTFIX_no_such_parameter'] },
  'Postfix override with a line feed': { env: { POSTFIX_smtpd_banner: 'hello\nrelayhost = evil' }, named: ['POSTFIX_smtpd_banner'] },
  'several problems at once': { env: { SMTP_PORT: 'x', RELAY_PORT: 'y', LOG_FORMAT: 'z' }, named: ['SMTP_PORT', 'RELAY_PORT', 'LOG_FORMAT'] },
};

function envOf(input: BadInput): Record<string, string> {
  const merged = { ...BASE, ...input.env };
  return Object.fromEntries(Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

const secretForms = [SECRET, Buffer.from(SECRET).toString('base64'), 'w#rd'];

describe(`${Object.keys(CASES).length} bad configurations each stop the real image at start`, () => {
  it.concurrent.each(Object.entries(CASES))('%s', async (_name, input) => {
    const { exitCode, output, changes } = await runRelayToExit(docker, { image, env: envOf(input), owner: 'e2e-bad-config' });
    expect(exitCode, output).toBe(2);
    for (const text of input.named) expect(output).toContain(text);
    for (const secret of secretForms) expect(output).not.toContain(secret);
    // Nothing started, nothing written: no Postfix line, no change under /etc/postfix.
    expect(output).not.toMatch(/postfix\/|daemon started/);
    expect(changes.filter((path) => path.startsWith('/etc/postfix'))).toEqual([]);
  });
});
