import type { Config } from '../config/config.js';

type Service = readonly [name: string, type: string, priv: string, unpriv: string, wakeup: string, maxproc: string, command: string];

// Debian's master.cf with every service unchrooted: in a container nothing copies
// resolv.conf, hosts or the CA bundle into the chroot (postconf-notes: chroot).
// Local delivery, virtual and lmtp are left out: this image only relays.
const SERVICES: readonly Service[] = [
  ['pickup', 'unix', 'n', '-', '60', '1', 'pickup'],
  ['cleanup', 'unix', 'n', '-', '-', '0', 'cleanup'],
  ['qmgr', 'unix', 'n', '-', '300', '1', 'qmgr'],
  ['tlsmgr', 'unix', '-', '-', '1000?', '1', 'tlsmgr'],
  ['rewrite', 'unix', '-', '-', '-', '-', 'trivial-rewrite'],
  ['bounce', 'unix', '-', '-', '-', '0', 'bounce'],
  ['defer', 'unix', '-', '-', '-', '0', 'bounce'],
  ['trace', 'unix', '-', '-', '-', '0', 'bounce'],
  ['verify', 'unix', '-', '-', '-', '1', 'verify'],
  ['flush', 'unix', 'n', '-', '1000?', '0', 'flush'],
  ['proxymap', 'unix', '-', '-', '-', '-', 'proxymap'],
  ['proxywrite', 'unix', '-', '-', '-', '1', 'proxymap'],
  ['smtp', 'unix', '-', '-', '-', '-', 'smtp'],
  ['relay', 'unix', '-', '-', '-', '-', 'smtp'],
  ['showq', 'unix', 'n', '-', '-', '-', 'showq'],
  ['error', 'unix', '-', '-', '-', '-', 'error'],
  ['retry', 'unix', '-', '-', '-', '-', 'error'],
  ['discard', 'unix', '-', '-', '-', '-', 'discard'],
  ['anvil', 'unix', '-', '-', '-', '1', 'anvil'],
  ['scache', 'unix', '-', '-', '-', '1', 'scache'],
  // Holds TLS sessions open between deliveries: with it, a cached connection is reused instead of a new handshake and login.
  ['tlsproxy', 'unix', '-', '-', '-', '0', 'tlsproxy'],
  // maillog_file needs postlogd.
  ['postlog', 'unix-dgram', 'n', '-', '-', '1', 'postlogd'],
];

/**
 * The whole master.cf: the SMTP listener on SMTP_PORT plus Postfix's internal services.
 * Without the listener (shutting down), queued mail is still delivered but no new mail is taken.
 */
export function renderMasterCf(config: Config, options: { listening: boolean } = { listening: true }): string {
  const listener: Service = [String(config.listen.port), 'inet', 'n', '-', '-', '-', 'smtpd'];
  const rows = [...(options.listening ? [listener] : []), ...SERVICES].map(([name, type, priv, unpriv, wakeup, maxproc, command]) =>
    [name.padEnd(10), type.padEnd(10), priv.padEnd(7), unpriv.padEnd(7), 'n'.padEnd(7), wakeup.padEnd(7), maxproc.padEnd(7), command].join(' '),
  );
  return [
    '# Written by the gmail-relay entrypoint at every start; edits here are overwritten.',
    '# service  type       private unpriv  chroot  wakeup  maxproc command',
    ...rows,
    '',
  ].join('\n');
}
