import { describe, expect, it } from 'vitest';
import type { Config, HostFacts } from '../../entrypoint/config/config.js';
import { loadConfig } from '../../entrypoint/config/load-config.js';
import type { Env } from '../../entrypoint/config/resolve-secret-files.js';
import { relayhostOf, renderMainCf, renderMainCfSettings } from '../../entrypoint/render/main-cf.js';
import { renderMasterCf } from '../../entrypoint/render/master-cf.js';
import { checkPostfixValue, UnsafeValueError } from '../../entrypoint/render/postfix-value.js';
import { renderMaskedSaslMap, renderSaslMap } from '../../entrypoint/render/sasl-map.js';

const FACTS: HostFacts = {
  hostname: 'relay.example.com',
  interfaceNetworks: ['172.17.0.0/16', 'fd00:dead:beef::/64'],
  postfixParameters: new Set(['smtp_tls_loglevel', 'smtpd_banner', 'message_size_limit']),
};
const USER = 'someone@gmail.com';
const PASS = 'abcdefghijklmnop';
const GMAIL: Env = { GMAIL_USER: USER, GMAIL_PASS: PASS };

function configFrom(env: Env): Config {
  return loadConfig(env, FACTS, () => {
    throw new Error('no files in these tests');
  }).config;
}

function settingsMap(config: Config): Map<string, string> {
  return new Map(renderMainCfSettings(config));
}

describe('renderMainCf for the Gmail default', () => {
  it('writes exactly this main.cf', () => {
    expect(renderMainCf(renderMainCfSettings(configFrom(GMAIL)))).toBe(
      [
        '# Written by the gmail-relay entrypoint at every start; edits here are overwritten.',
        'compatibility_level = 3.10',
        'myhostname = relay.example.com',
        'mydestination =',
        'local_recipient_maps =',
        'local_transport = error:local delivery is disabled in gmail-relay',
        'alias_maps =',
        'alias_database =',
        'relayhost = [smtp.gmail.com]:587',
        'inet_interfaces = all',
        'inet_protocols = ipv4',
        'mynetworks = 127.0.0.0/8 [::1]/128 172.17.0.0/16 [fd00:dead:beef::]/64',
        'smtpd_relay_restrictions = permit_mynetworks, check_client_access static:{REJECT 5.7.1 this client is not in ALLOWED_NETWORKS}, reject',
        'disable_vrfy_command = yes',
        'message_size_limit = 35882577',
        'smtp_host_lookup = native',
        'smtp_tls_security_level = secure',
        'smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt',
        'smtp_tls_loglevel = 1',
        'smtp_sasl_auth_enable = yes',
        'smtp_sasl_password_maps = hash:/etc/postfix/sasl/sasl_passwd',
        'smtp_sasl_security_options = noanonymous, noplaintext',
        'smtp_sasl_tls_security_options = noanonymous',
        'smtp_sasl_mechanism_filter = plain, login',
        'smtp_tls_connection_reuse = yes',
        'smtp_connection_cache_destinations = [smtp.gmail.com]:587',
        'smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache',
        'tlsproxy_tls_security_level = may',
        'tlsproxy_tls_cert_file = none',
        'queue_run_delay = 60s',
        'minimal_backoff_time = 60s',
        'maximal_backoff_time = 480s',
        'smtp_delivery_status_filter = regexp:{ {/^5\\.4\\.5(.*)/ 4.4.5$$1} }',
        'smtpd_peername_lookup = no',
        'maillog_file = /var/run/gmail-relay/maillog',
        '',
      ].join('\n'),
    );
  });

  it('never puts the password in main.cf', () => {
    expect(renderMainCf(renderMainCfSettings(configFrom(GMAIL)))).not.toContain(PASS);
  });

  it('lists every setting once', () => {
    const names = renderMainCfSettings(configFrom(GMAIL)).map(([name]) => name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('RATE_LIMIT', () => {
  it('spaces deliveries by whole seconds, rounding the pace down, and keeps the connection over the pause', () => {
    expect(settingsMap(configFrom({ ...GMAIL, RATE_LIMIT: '30' })).get('smtp_destination_rate_delay')).toBe('2s');
    expect(settingsMap(configFrom({ ...GMAIL, RATE_LIMIT: '40' })).get('smtp_destination_rate_delay')).toBe('2s');
    expect(settingsMap(configFrom({ ...GMAIL, RATE_LIMIT: '60' })).get('smtp_connection_cache_time_limit')).toBe('3s');
    expect(settingsMap(configFrom(GMAIL)).has('smtp_destination_rate_delay')).toBe(false);
  });

  it.each(['0', '61', '1.5', 'fast'])('refuses RATE_LIMIT=%s', (value) => {
    expect(() => configFrom({ ...GMAIL, RATE_LIMIT: value })).toThrow(/RATE_LIMIT: must be a number of messages per minute from 1 to 60/);
  });
});

describe('renderMainCfSettings', () => {
  it('has no SASL settings when there are no credentials', () => {
    const config = configFrom({ RELAY_HOST: 'mail.isp.example', RELAY_PORT: '25' });
    expect(config.relay.credentials).toBeUndefined();
    const settings = settingsMap(config);
    expect([...settings.keys()].filter((name) => name.includes('sasl'))).toEqual([]);
    expect(settings.get('relayhost')).toBe('[mail.isp.example]:25');
    expect(settings.get('smtp_tls_security_level')).toBe('secure');
  });

  it('sets smtp_tls_wrappermode only for port 465, right after the TLS settings', () => {
    expect(settingsMap(configFrom(GMAIL)).has('smtp_tls_wrappermode')).toBe(false);
    const names = renderMainCfSettings(configFrom({ ...GMAIL, RELAY_PORT: '465' })).map(([name]) => name);
    expect(names.slice(names.indexOf('smtp_tls_loglevel'), names.indexOf('smtp_tls_loglevel') + 3)).toEqual([
      'smtp_tls_loglevel',
      'smtp_tls_wrappermode',
      'smtp_sasl_auth_enable',
    ]);
    const settings = settingsMap(configFrom({ ...GMAIL, RELAY_PORT: '465' }));
    expect(settings.get('smtp_tls_wrappermode')).toBe('yes');
    expect(settings.get('relayhost')).toBe('[smtp.gmail.com]:465');
  });

  it('renders the other variables into their settings', () => {
    const settings = settingsMap(
      configFrom({
        ...GMAIL,
        SMTP_BIND: '127.0.0.1',
        INET_PROTOCOLS: 'all',
        MESSAGE_SIZE_LIMIT: '10240000',
        MAIL_HOSTNAME: 'mail.example.org',
        RELAY_TLS_LEVEL: 'encrypt',
        RELAY_TLS_CA_FILE: '/run/ca.pem',
        ALLOWED_NETWORKS: '10.0.0.7/8 fd00::1/64',
      }),
    );
    expect(settings.get('inet_interfaces')).toBe('127.0.0.1');
    expect(settings.get('inet_protocols')).toBe('all');
    expect(settings.get('message_size_limit')).toBe('10240000');
    expect(settings.get('myhostname')).toBe('mail.example.org');
    expect(settings.get('smtp_tls_security_level')).toBe('encrypt');
    expect(settings.get('smtp_tls_CAfile')).toBe('/run/ca.pem');
    expect(settings.get('mynetworks')).toBe('10.0.0.0/8 [fd00::]/64');
  });

  it('lets a POSTFIX_* override replace a setting, last and once', () => {
    const settings = renderMainCfSettings(configFrom({ ...GMAIL, POSTFIX_SMTP_TLS_LOGLEVEL: '2', POSTFIX_smtpd_banner: '$myhostname ESMTP' }));
    expect(settings.filter(([name]) => name === 'smtp_tls_loglevel')).toEqual([['smtp_tls_loglevel', '2']]);
    expect(settings.slice(-2)).toEqual([
      ['smtp_tls_loglevel', '2'],
      ['smtpd_banner', '$myhostname ESMTP'],
    ]);
  });

  it('refuses a value with CR, LF or NUL even if one got past config', () => {
    const config = configFrom(GMAIL);
    for (const hostname of ['relay\n', 'relay\r', 'relay\0']) {
      expect(() => renderMainCfSettings({ ...config, hostname })).toThrow(UnsafeValueError);
    }
    expect(() => renderMainCfSettings({ ...config, relay: { ...config.relay, caFile: '/ca\nsmtp_tls_security_level = none' } })).toThrow(
      /smtp_tls_CAfile/,
    );
  });
});

describe('renderMainCf', () => {
  it('writes "name =" for an empty value and "name = value" otherwise', () => {
    expect(
      renderMainCf([
        ['mydestination', ''],
        ['relayhost', '[smtp.gmail.com]:587'],
      ]),
    ).toBe('# Written by the gmail-relay entrypoint at every start; edits here are overwritten.\nmydestination =\nrelayhost = [smtp.gmail.com]:587\n');
  });
});

describe('renderSaslMap', () => {
  it('writes one line "[smtp.gmail.com]:587 user:pass" keyed exactly like relayhost', () => {
    const config = configFrom(GMAIL);
    const map = renderSaslMap(config);
    expect(map).toBe(`[smtp.gmail.com]:587 ${USER}:${PASS}\n`);
    expect(map?.split(' ')[0]).toBe(relayhostOf(config));
    expect(map?.split(' ')[0]).toBe(settingsMap(config).get('relayhost'));
  });

  it('follows RELAY_HOST and RELAY_PORT in the key', () => {
    const config = configFrom({ RELAY_HOST: 'smtp.example.com', RELAY_PORT: '465', RELAY_USER: 'app', RELAY_PASS: 'p4ss' });
    expect(renderSaslMap(config)).toBe('[smtp.example.com]:465 app:p4ss\n');
    expect(relayhostOf(config)).toBe('[smtp.example.com]:465');
  });

  it('keeps a password with colons and spaces byte-exact (Postfix splits at the first colon)', () => {
    const config = configFrom({ RELAY_HOST: 'smtp.example.com', RELAY_USER: 'app', RELAY_PASS: 'pa:ss w#rd' });
    expect(renderSaslMap(config)).toBe('[smtp.example.com]:587 app:pa:ss w#rd\n');
  });

  it('is undefined without credentials', () => {
    expect(renderSaslMap(configFrom({ RELAY_HOST: 'mail.isp.example' }))).toBeUndefined();
  });

  it('refuses a password with a line break without showing it', () => {
    const config = configFrom(GMAIL);
    const unsafe: Config = { ...config, relay: { ...config.relay, credentials: { user: USER, pass: 'S3cr3t\nx' } } };
    expect(() => renderSaslMap(unsafe)).toThrow(UnsafeValueError);
    try {
      renderSaslMap(unsafe);
    } catch (error) {
      expect((error as Error).message).not.toContain('S3cr3t');
    }
  });
});

describe('renderMaskedSaslMap', () => {
  it('shows the key and the user, never the password', () => {
    const masked = renderMaskedSaslMap(configFrom(GMAIL));
    expect(masked).toBe(`[smtp.gmail.com]:587 ${USER}:********\n`);
    expect(masked).not.toContain(PASS);
  });

  it('is undefined without credentials', () => {
    expect(renderMaskedSaslMap(configFrom({ RELAY_HOST: 'mail.isp.example' }))).toBeUndefined();
  });
});

describe('renderMasterCf', () => {
  function rows(text: string): string[][] {
    return text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split(/\s+/));
  }

  it('starts with the SMTP listener, named after SMTP_PORT', () => {
    expect(rows(renderMasterCf(configFrom(GMAIL)))[0]).toEqual(['25', 'inet', 'n', '-', 'n', '-', '-', 'smtpd']);
    expect(rows(renderMasterCf(configFrom({ ...GMAIL, SMTP_PORT: '2525' })))[0]).toEqual(['2525', 'inet', 'n', '-', 'n', '-', '-', 'smtpd']);
  });

  it('has exactly one inet service', () => {
    expect(rows(renderMasterCf(configFrom({ ...GMAIL, SMTP_PORT: '2525' }))).filter((row) => row[1] === 'inet')).toHaveLength(1);
  });

  it('chroots no service (5th column)', () => {
    const services = rows(renderMasterCf(configFrom(GMAIL)));
    expect(services.length).toBeGreaterThan(10);
    for (const row of services) {
      expect(row).toHaveLength(8);
      expect(row[4], row.join(' ')).not.toBe('y');
      expect(row[4], row.join(' ')).toBe('n');
    }
  });

  it('runs postlogd for maillog_file', () => {
    expect(rows(renderMasterCf(configFrom(GMAIL)))).toContainEqual(['postlog', 'unix-dgram', 'n', '-', 'n', '-', '1', 'postlogd']);
  });

  it('keeps the services the relay path needs, each once', () => {
    const services = rows(renderMasterCf(configFrom(GMAIL)));
    const names = services.map((row) => row[0]);
    expect(new Set(names).size).toBe(names.length);
    for (const name of ['pickup', 'cleanup', 'qmgr', 'tlsmgr', 'rewrite', 'bounce', 'defer', 'smtp', 'relay', 'error', 'anvil']) {
      expect(names).toContain(name);
    }
    expect(names).not.toContain('local');
  });

  it('starts with the generated-file comment and ends with a newline', () => {
    const text = renderMasterCf(configFrom(GMAIL));
    expect(text.startsWith('# Written by the gmail-relay entrypoint')).toBe(true);
    expect(text.endsWith('postlogd\n')).toBe(true);
  });
});

describe('checkPostfixValue', () => {
  it('returns a safe value unchanged', () => {
    expect(checkPostfixValue('relayhost', '[smtp.gmail.com]:587')).toBe('[smtp.gmail.com]:587');
    expect(checkPostfixValue('mydestination', '')).toBe('');
    expect(checkPostfixValue('x', 'tab\tand spaces are fine')).toBe('tab\tand spaces are fine');
  });

  it.each([
    ['CR', 'a\rb'],
    ['LF', 'a\nb'],
    ['CRLF at the end', 'a\r\n'],
    ['NUL', 'a\0b'],
    ['a lone LF', '\n'],
  ])('throws UnsafeValueError on %s, naming the setting but not the value', (_name, value) => {
    let caught: unknown;
    try {
      checkPostfixValue('smtp_tls_CAfile', `S3cr3t${value}`);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UnsafeValueError);
    const error = caught as UnsafeValueError;
    expect(error.code).toBe('UNSAFE_VALUE');
    expect(error.setting).toBe('smtp_tls_CAfile');
    expect(error.message).toContain('smtp_tls_CAfile');
    expect(error.message).not.toContain('S3cr3t');
  });
});
