import { existsSync, readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { formatCidr, networkOf, parseCidr } from './config/cidr.js';
import type { HostFacts } from './config/config.js';
import { checkCommand } from './commands/check.js';
import { healthcheck } from './commands/healthcheck.js';
import { printConfig } from './commands/print-config.js';
import { runRelay } from './commands/run.js';
import { EXIT_FAILURE, type Runtime } from './commands/runtime.js';
import { createBatchedWriter } from './log/batched-writer.js';

const COMMANDS: Record<string, (runtime: Runtime) => number | Promise<number>> = {
  run: runRelay,
  'print-config': printConfig,
  healthcheck,
  check: checkCommand,
};

/** Subnets of the container's own interfaces (link-local excluded: it needs a zone to route). */
function interfaceNetworks(): string[] {
  const networks = new Set<string>();
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.internal || address.cidr === null || address.address.startsWith('fe80:')) continue;
      const cidr = parseCidr(address.cidr);
      if (cidr) networks.add(formatCidr(networkOf(cidr)));
    }
  }
  return [...networks];
}

/** Written at image build time by `postconf -d`, so no Postfix process runs at start to ask. */
const POSTFIX_PARAMETERS_FILE = '/opt/gmail-relay/postfix-parameters';

function postfixParameters(): Set<string> {
  const text = existsSync(POSTFIX_PARAMETERS_FILE) ? readFileSync(POSTFIX_PARAMETERS_FILE, 'utf8') : '';
  return new Set(text.split('\n').filter((name) => name !== ''));
}

// Synchronous writes (a pipe, on Linux) batched per event-loop turn: one write per burst of lines, and nothing lost at exit.
const stdout = createBatchedWriter((chunk) => process.stdout.write(chunk));

async function main(): Promise<number> {
  const name = process.argv[2] ?? 'run';
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`gmail-relay: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 64;
  }
  const facts: HostFacts = { hostname: hostname(), interfaceNetworks: interfaceNetworks(), postfixParameters: postfixParameters() };
  const runtime: Runtime = {
    env: process.env,
    facts,
    readTextFile: (path) => readFileSync(path, 'utf8'),
    writeStdout: stdout.write,
    writeStderr: (text) => process.stderr.write(text),
    onSignal: (signal, handler) => process.on(signal, handler),
  };
  return command(runtime);
}

// Exit explicitly: a stopped relay must not linger on a leftover handle (stdout is synchronous on Linux).
main().then(
  (code) => {
    stdout.flush();
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`gmail-relay: ${(error as Error).stack ?? String(error)}\n`);
    stdout.flush();
    process.exit(EXIT_FAILURE);
  },
);
