import type { Env } from './resolve-secret-files.js';

/** Kubernetes injects NAME_PORT=tcp://10.0.0.6:587 for a Service named "name" in the namespace. */
const SERVICE_LINK = /^(tcp|udp|sctp):\/\/\S+:\d+$/;

/**
 * A Service called smtp, relay or health would set SMTP_PORT, RELAY_PORT or HEALTH_PORT to such a
 * value; nobody writes that by hand, so it is dropped with a warning instead of stopping the start.
 */
export function dropServiceLinks(env: Env, variables: readonly string[]): { env: Env; warnings: string[] } {
  const cleaned: Record<string, string | undefined> = { ...env };
  const warnings: string[] = [];
  for (const name of variables) {
    const value = env[name];
    if (value === undefined || !SERVICE_LINK.test(value)) continue;
    delete cleaned[name];
    const service = name.slice(0, name.lastIndexOf('_PORT')).toLowerCase().replaceAll('_', '-');
    warnings.push(
      `${name}=${value} looks like a Kubernetes service link (from a Service named "${service}"), not a setting: ignored. Set enableServiceLinks: false in the pod spec to keep them out`,
    );
  }
  return { env: cleaned, warnings };
}
