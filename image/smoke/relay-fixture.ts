import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { secretForms } from '../../entrypoint/log/logger.js';
import { createTestCa, type TestCa } from './test-ca.js';
import { startFakeGmail, type FakeGmail, type FakeGmailOptions } from './fake-gmail.js';
import { findFreePort, randomLoopbackAddress } from './free-port.js';
import { startRelayContainer, waitForBanner, type RelayContainer } from './relay-container.js';

export const TEST_USER = 'relay.smoke@gmail.com';
export const TEST_PASS = 'abcdefghijklmnop';
const CA_IN_CONTAINER = '/run/gmail-relay-test/ca.pem';

/** A fake Gmail on its own loopback address at port 587, and the CA that vouches for it. */
export interface Upstream {
  readonly address: string;
  /** Starts another fake on the same address and certificate, e.g. after closing one ("the relay is back"). */
  restart?(options?: Partial<FakeGmailOptions>): Promise<FakeGmail>;
  /** The name the relay reaches the fake by (through --add-host). */
  readonly hostname: string;
  readonly ca: TestCa;
  readonly fake: FakeGmail;
  close(): Promise<void>;
}

export interface UpstreamOptions extends Partial<FakeGmailOptions> {
  /** Names the fake's certificate is issued for; the first is the one the relay is pointed at. */
  readonly hostnames?: string[];
}

export async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const dir = await mkdtemp(join(tmpdir(), 'gmail-relay-ca-'));
  const hostnames = options.hostnames ?? ['smtp.gmail.com'];
  const ca = await createTestCa(dir, hostnames);
  const address = options.host ?? randomLoopbackAddress();
  const start = (overrides: Partial<FakeGmailOptions> = {}) =>
    startFakeGmail({
      host: address,
      port: options.mode === 'implicit-tls' ? 465 : 587,
      key: ca.keyPem,
      cert: ca.certPem,
      credentials: { user: TEST_USER, pass: TEST_PASS },
      ...options,
      ...overrides,
    });
  const fakes = [await start()];
  return {
    address,
    hostname: hostnames[0]!,
    ca,
    fake: fakes[0]!,
    restart: async (overrides) => {
      const fake = await start(overrides);
      fakes.push(fake);
      return fake;
    },
    close: async () => {
      await Promise.all(fakes.map((fake) => fake.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RelayUnderTest {
  readonly relay: RelayContainer;
  readonly port: number;
  /** Milliseconds from container start to the first 220 banner. */
  readonly readyMs: number;
}

/**
 * Runs the image pointed at the upstream the way a user would point it at Gmail: the real
 * defaults, with smtp.gmail.com resolved to the fake through --add-host and the test CA trusted.
 */
export async function startRelay(
  docker: Dockerode,
  image: string,
  upstream: Upstream,
  /** Added to the defaults; undefined removes a default (e.g. GMAIL_PASS). */
  env: Readonly<Record<string, string | undefined>> = {},
  extra: { binds?: string[]; owner?: string; waitReady?: boolean } = {},
): Promise<RelayUnderTest> {
  const port = await findFreePort();
  const relay = await startRelayContainer(docker, {
    image,
    env: definedOnly({
      GMAIL_USER: TEST_USER,
      GMAIL_PASS: TEST_PASS,
      RELAY_TLS_CA_FILE: CA_IN_CONTAINER,
      SMTP_BIND: '127.0.0.1',
      SMTP_PORT: String(port),
      ...env,
    }),
    extraHosts: [`${upstream.hostname}:${upstream.address}`],
    binds: [`${upstream.ca.caFile}:${CA_IN_CONTAINER}:ro`, ...(extra.binds ?? [])],
    ...(extra.owner ? { owner: extra.owner } : {}),
  });
  const password = 'GMAIL_PASS' in env ? (env['GMAIL_PASS'] ?? env['RELAY_PASS']) : TEST_PASS;
  const guarded = guardAgainstLeaks(relay, password);
  if (extra.waitReady === false) return { relay: guarded, port, readyMs: NaN };
  try {
    await waitForBanner('127.0.0.1', port, 30_000, async () => (await relay.container.inspect()).State.Running);
  } catch (error) {
    const logs = await relay.logs().catch(() => '');
    await relay.remove();
    throw new Error(`${(error as Error).message}\ncontainer log:\n${logs}`);
  }
  return { relay: guarded, port, readyMs: Date.now() - relay.startedAt };
}

/** Every relay a test starts is checked on removal: no form of its password may be in its log. */
function guardAgainstLeaks(relay: RelayContainer, pass: string | undefined): RelayContainer {
  if (pass === undefined || pass.length < 4) return relay;
  return {
    ...relay,
    remove: async () => {
      const logs = await relay.logs().catch(() => '');
      await relay.remove();
      // The same forms the product masks: raw, AUTH PLAIN/LOGIN base64, and inside longer base64.
      const leaked = secretForms(TEST_USER, pass).filter((form) => logs.includes(form));
      if (leaked.length > 0) throw new Error(`the relay's log contains its password (${leaked.length} form(s)):\n${logs}`);
    },
  };
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
