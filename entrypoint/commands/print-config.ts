import { ConfigError, formatProblem } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import { renderMainCf, renderMainCfSettings } from '../render/main-cf.js';
import { renderMasterCf } from '../render/master-cf.js';
import { renderMaskedSaslMap } from '../render/sasl-map.js';
import { SASL_MAP_PATH } from '../render/paths.js';
import { EXIT_BAD_CONFIG, EXIT_OK, type Runtime } from './runtime.js';

/** Shows what a start would apply, password masked, without touching any file. */
export function printConfig(runtime: Runtime): number {
  try {
    const { config, warnings } = loadConfig(runtime.env, runtime.facts, runtime.readTextFile);
    warnings.forEach((warning) => runtime.writeStderr(`warning: ${warning}\n`));
    const saslMap = renderMaskedSaslMap(config);
    runtime.writeStdout(
      [
        '# /etc/postfix/main.cf',
        renderMainCf(renderMainCfSettings(config)),
        '# /etc/postfix/master.cf',
        renderMasterCf(config),
        `# ${SASL_MAP_PATH}`,
        saslMap ?? '(none: no credentials, no AUTH)\n',
      ].join('\n'),
    );
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    runtime.writeStderr(`gmail-relay: invalid configuration:\n${error.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
    return EXIT_BAD_CONFIG;
  }
}
