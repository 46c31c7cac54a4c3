/**
 * The configuration a user would otherwise copy from the common how-to, run in the same image:
 * Debian's stock main.cf and master.cf plus the how-to's lines, the password map written and
 * postmapped the same way. Only what is needed to reach the fake Gmail here is adapted: the
 * test CA stands in for the system bundle, /etc/hosts is consulted (--add-host), and the
 * listener moves to a free port on loopback.
 */
export const HOWTO_LINES = [
  'relayhost = [smtp.gmail.com]:587',
  'smtp_use_tls = yes',
  'smtp_sasl_auth_enable = yes',
  'smtp_sasl_password_maps = hash:/etc/postfix/saslpass',
  'smtp_sasl_tls_security_options = noanonymous',
  'smtp_sasl_mechanism_filter = plain',
  // The how-to writes smtp_tls_CApath, which cannot work with a file: CAfile, as the issue says.
  'smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt',
];

export interface BaselineOptions {
  readonly user: string;
  readonly pass: string;
  readonly caFileInContainer: string;
  readonly listenPort: number;
}

/** A shell script for `--entrypoint /bin/sh -c`: it replaces the product's entrypoint entirely. */
export function howtoBaselineScript(options: BaselineOptions): string {
  const lines = HOWTO_LINES.map((line) => line.replace('/etc/ssl/certs/ca-certificates.crt', options.caFileInContainer));
  return [
    'set -e',
    // The image turns Debian's chroot file sync off for the product; the stock setup has it on.
    "echo 'SYNC_CHROOT=y' > /etc/default/postfix",
    `cat >> /etc/postfix/main.cf <<'HOWTO'`,
    ...lines,
    'smtp_host_lookup = native',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'HOWTO',
    `postconf -M# smtp/inet`,
    `postconf -Me '${options.listenPort}/inet=${options.listenPort} inet n - y - - smtpd'`,
    `printf '%s\\n' '[smtp.gmail.com]:587 ${options.user}:${options.pass}' > /etc/postfix/saslpass`,
    'chmod 600 /etc/postfix/saslpass',
    'postmap hash:/etc/postfix/saslpass',
    'exec postfix start-fg',
  ].join('\n');
}
