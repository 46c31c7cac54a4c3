import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A throwaway CA and one server certificate it signed, for the fake Gmail's TLS. */
export interface TestCa {
  /** CA certificate (PEM): what a client trusts, e.g. Postfix's smtp_tls_CAfile. */
  caPem: string;
  /** Absolute path of the CA certificate file inside the directory given. */
  caFile: string;
  /** Server private key (PEM, PKCS#8). */
  keyPem: string;
  /** Server certificate (PEM), signed by the CA, one DNS SAN per host name. */
  certPem: string;
}

export class TestCaError extends Error {
  readonly code = 'TEST_CA_FAILED';
  override readonly name = 'TestCaError';
}

const CA_DAYS = 3650;
const LEAF_DAYS = 1825;
// A host name or a leading-wildcard one; anything else could break out of the openssl config file.
const HOSTNAME = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * Creates in `dir` a CA (ca.pem, ca.key) and a server certificate (server.pem, server.key)
 * for `hostnames`, the first of which is also the CN. Uses the openssl CLI. All files are
 * mode 0644 so a container user can read them through a bind mount.
 */
export async function createTestCa(dir: string, hostnames: string[]): Promise<TestCa> {
  const [commonName] = hostnames;
  if (commonName === undefined) throw new TestCaError('createTestCa needs at least one host name');
  const bad = hostnames.find((name) => !HOSTNAME.test(name));
  if (bad !== undefined) throw new TestCaError(`not a DNS host name: ${JSON.stringify(bad)}`);

  const file = (name: string): string => join(dir, name);
  await mkdir(dir, { recursive: true });
  const config = file('openssl.cnf');
  // Our own config so the system openssl.cnf's defaults cannot add or clash with extensions.
  await writeFile(config, renderOpensslConfig(hostnames));

  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(['req', '-x509', ...ecKey, '-config', config, '-extensions', 'v3_ca',
    '-subj', '/O=gmail-relay tests/CN=gmail-relay test CA', '-days', String(CA_DAYS),
    '-set_serial', randomSerial(), '-keyout', file('ca.key'), '-out', file('ca.pem')]);
  await openssl(['req', '-new', ...ecKey, '-config', config,
    '-subj', `/CN=${commonName}`, '-keyout', file('server.key'), '-out', file('server.csr')]);
  await openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'),
    '-CAkey', file('ca.key'), '-set_serial', randomSerial(), '-days', String(LEAF_DAYS),
    '-extfile', config, '-extensions', 'v3_leaf', '-out', file('server.pem')]);
  await rm(file('server.csr'));

  for (const name of ['ca.pem', 'ca.key', 'server.pem', 'server.key', 'openssl.cnf']) {
    await chmod(file(name), 0o644);
  }
  return {
    caPem: await readFile(file('ca.pem'), 'utf8'),
    caFile: file('ca.pem'),
    keyPem: await readFile(file('server.key'), 'utf8'),
    certPem: await readFile(file('server.pem'), 'utf8'),
  };
}

function renderOpensslConfig(hostnames: string[]): string {
  return [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    '[v3_ca]',
    'basicConstraints = critical, CA:TRUE',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid:always',
    '[v3_leaf]',
    'basicConstraints = critical, CA:FALSE',
    // EC key: the TLS handshake only signs with it, no key encipherment.
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid:always',
    `subjectAltName = ${hostnames.map((name) => `DNS:${name}`).join(', ')}`,
    '',
  ].join('\n');
}

// 127 random bits: positive as RFC 5280 requires, and never shared by certificates from two runs.
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new TestCaError(`openssl ${args[0]} failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}
