/** Where the entrypoint writes; Debian's package owns the rest of /etc/postfix. */
export const POSTFIX_CONFIG_DIR = '/etc/postfix';
export const SASL_MAP_PATH = '/etc/postfix/sasl/sasl_passwd';
export const SASL_MAP_TYPE = 'hash';
/** Under /var so that maillog_file_prefixes (/var, /dev/stdout) accepts it; /var/run is /run. */
export const MAILLOG_PIPE_PATH = '/var/run/gmail-relay/maillog';
