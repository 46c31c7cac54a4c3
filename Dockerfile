FROM debian:trixie-slim

# Debian's packages come first so that a code change rebuilds only the layers below in seconds.
# Documentation and translations are never unpacked (as in Debian's slim image); copyright files stay, and so
# do manual pages: `postfix set-permissions` expects its own.
RUN printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
      'path-exclude=/usr/share/info/*' 'path-exclude=/usr/share/locale/*' \
      > /etc/dpkg/dpkg.cfg.d/gmail-relay-slim \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      postfix libsasl2-modules ca-certificates tini nodejs \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log /var/cache/debconf/*-old \
 # Node's package manager shim and TypeScript declarations are never used at run time.
 && rm -rf /usr/share/nodejs/corepack /usr/share/nodejs/@types /usr/share/nodejs/undici-types \
 # No service runs chrooted, so Debian's start script need not copy files into the spool.
 && echo 'SYNC_CHROOT=""' > /etc/default/postfix \
 # The names POSTFIX_<parameter> may set, checked at start without running postconf.
 && mkdir -p /opt/gmail-relay \
 && postconf -d | sed 's/ = .*//; s/ =$//' > /opt/gmail-relay/postfix-parameters \
 # Queue directories in the image, so a new volume starts with them instead of a repair.
 && postfix set-permissions

# One bundled file: no npm install in the image.
COPY entrypoint.cjs /opt/gmail-relay/entrypoint.cjs

EXPOSE 25
VOLUME /var/spool/postfix
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/opt/gmail-relay/entrypoint.cjs", "healthcheck"]
# tini reaps orphans and forwards signals; Node as PID 1 would do neither.
# A 1 MB young generation is plenty for a supervisor and keeps its memory ~6 MB lower in a burst.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=1", "/opt/gmail-relay/entrypoint.cjs"]
CMD ["run"]
