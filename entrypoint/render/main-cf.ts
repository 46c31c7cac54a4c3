import { parseCidr, formatCidrForPostfix } from '../config/cidr.js';
import type { Config } from '../config/config.js';
import { checkPostfixValue } from './postfix-value.js';
import { MAILLOG_PIPE_PATH, SASL_MAP_PATH, SASL_MAP_TYPE } from './paths.js';

export type Setting = readonly [name: string, value: string];

/** `[host]:port`: brackets skip MX lookups, and the SASL map key must equal this string exactly. */
export function relayhostOf(config: Config): string {
  return `[${config.relay.host}]:${config.relay.port}`;
}

/** Config → main.cf settings, in file order; everything not listed keeps Postfix's default. */
export function renderMainCfSettings(config: Config): Setting[] {
  const { relay, listen } = config;
  const settings: Setting[] = [
    ['compatibility_level', '3.10'],
    ['myhostname', config.hostname],
    // Nothing is delivered locally: every domain, our own name included, goes to the relay.
    ['mydestination', ''],
    ['local_recipient_maps', ''],
    ['local_transport', 'error:local delivery is disabled in gmail-relay'],
    ['alias_maps', ''],
    ['alias_database', ''],
    ['relayhost', relayhostOf(config)],
    ['inet_interfaces', listen.bind ?? 'all'],
    ['inet_protocols', config.inetProtocols],
    ['mynetworks', config.allowedNetworks.map((network) => formatCidrForPostfix(parseCidr(network)!)).join(' ')],
    // Everyone else is refused at RCPT, with a reply that says which setting decides.
    // The final reject is never reached; Postfix insists on seeing one (smtpd: "specify at least one working instance of reject").
    ['smtpd_relay_restrictions', 'permit_mynetworks, check_client_access static:{REJECT 5.7.1 this client is not in ALLOWED_NETWORKS}, reject'],
    ['disable_vrfy_command', 'yes'],
    ['message_size_limit', String(config.messageSizeLimit)],
    // The system resolver reads /etc/hosts, so `--add-host smtp.gmail.com:ADDR` is honoured.
    ['smtp_host_lookup', 'native'],
    ['smtp_tls_security_level', relay.tlsLevel],
    ['smtp_tls_CAfile', relay.caFile],
    ['smtp_tls_loglevel', '1'],
    ...(relay.wrapperMode ? [['smtp_tls_wrappermode', 'yes'] as const] : []),
    ...(relay.credentials ? saslSettings() : []),
    ...connectionReuseSettings(config),
    ...senderSettings(config),
    ...queueSettings(config),
    // Client host names are not needed to relay for trusted networks; skipping the lookup saves a DNS wait per connection.
    ['smtpd_peername_lookup', 'no'],
    ['maillog_file', MAILLOG_PIPE_PATH],
  ];
  // POSTFIX_* overrides come last and replace a setting of the same name rather than repeat it.
  const overridden = new Set(config.overrides.map((override) => override.name));
  const merged: Setting[] = [
    ...settings.filter(([name]) => !overridden.has(name)),
    ...config.overrides.map((override) => [override.name, override.value] as const),
  ];
  return merged.map(([name, value]) => [name, checkPostfixValue(name, value)] as const);
}

/**
 * One TLS session and one login carry many messages: Gmail throttles repeated logins, and a
 * handshake plus AUTH per message is most of a delivery's cost (the how-to pays it every time).
 */
function connectionReuseSettings(config: Config): Setting[] {
  const settings: Setting[] = [
    ['smtp_tls_connection_reuse', 'yes'],
    ['smtp_connection_cache_destinations', relayhostOf(config)],
    ['smtp_tls_session_cache_database', 'btree:${data_directory}/smtp_scache'],
    // tlsproxy warns at every start when its (unused, postscreen-only) server role is off; on, without a certificate, it is quiet.
    ['tlsproxy_tls_security_level', 'may'],
    ['tlsproxy_tls_cert_file', 'none'],
  ];
  const delay = rateDelaySeconds(config);
  if (delay !== undefined) {
    // One delivery at a time, `delay` seconds apart; the idle connection outlives the pause so the login is kept.
    settings.push(['smtp_destination_rate_delay', `${delay}s`], ['smtp_connection_cache_time_limit', `${delay + 2}s`]);
  }
  return settings;
}

/** RATE_LIMIT is a ceiling: a pace Postfix's whole seconds cannot hit exactly is rounded down (40/min → one every 2 s). */
export function rateDelaySeconds(config: Config): number | undefined {
  return config.rateLimitPerMinute === undefined ? undefined : Math.ceil(60 / config.rateLimitPerMinute);
}

function queueSettings(config: Config): Setting[] {
  const retry = config.queueRetrySeconds;
  return [
    // A relay's mail should not wait Postfix's default 5-minute-to-hours backoff once Gmail is back.
    ['queue_run_delay', `${retry}s`],
    ['minimal_backoff_time', `${retry}s`],
    ['maximal_backoff_time', `${retry * 8}s`],
    // Gmail's daily quota (550 5.4.5) lifts within a day: keep such mail queued instead of bouncing it.
    // $$ is main.cf's escape for a literal $ (the regexp's $1).
    ['smtp_delivery_status_filter', 'regexp:{ {/^5\\.4\\.5(.*)/ 4.4.5$$1} }'],
  ];
}

function senderSettings(config: Config): Setting[] {
  const settings: Setting[] = [];
  if (config.allowedSenderDomains.length > 0) {
    const domains = config.allowedSenderDomains.map((domain) => `${domain}=OK`).join(', ');
    settings.push(['smtpd_sender_restrictions', `check_sender_access inline:{ ${domains} }, reject`]);
  }
  if (config.rewriteSenderTo !== undefined) {
    // Envelope sender and From/Sender headers become the login; relays like Gmail refuse other senders.
    settings.push(['sender_canonical_maps', `static:${config.rewriteSenderTo}`], ['sender_canonical_classes', 'envelope_sender, header_sender']);
  }
  return settings;
}

function saslSettings(): Setting[] {
  return [
    ['smtp_sasl_auth_enable', 'yes'],
    ['smtp_sasl_password_maps', `${SASL_MAP_TYPE}:${SASL_MAP_PATH}`],
    // Never a password in the clear: without TLS no plaintext mechanism may run.
    ['smtp_sasl_security_options', 'noanonymous, noplaintext'],
    ['smtp_sasl_tls_security_options', 'noanonymous'],
    ['smtp_sasl_mechanism_filter', 'plain, login'],
  ];
}

export function renderMainCf(settings: readonly Setting[]): string {
  const lines = settings.map(([name, value]) => (value === '' ? `${name} =` : `${name} = ${value}`));
  return `# Written by the gmail-relay entrypoint at every start; edits here are overwritten.\n${lines.join('\n')}\n`;
}
