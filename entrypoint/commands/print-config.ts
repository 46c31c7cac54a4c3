import { renderMainCf, renderMainCfSettings } from '../render/main-cf.js';
import { renderMasterCf } from '../render/master-cf.js';
import { renderMaskedSaslMap } from '../render/sasl-map.js';
import { SASL_MAP_PATH } from '../render/paths.js';
import { loadConfigForCommand } from './load-for-command.js';
import { EXIT_BAD_CONFIG, EXIT_OK, type Runtime } from './runtime.js';

/** Shows what a start would apply, password masked, without touching any file. */
export function printConfig(runtime: Runtime): number {
  const config = loadConfigForCommand(runtime);
  if (config === undefined) return EXIT_BAD_CONFIG;
  runtime.writeStdout(
    [
      '# /etc/postfix/main.cf',
      renderMainCf(renderMainCfSettings(config)),
      '# /etc/postfix/master.cf',
      renderMasterCf(config),
      `# ${SASL_MAP_PATH}`,
      renderMaskedSaslMap(config) ?? '(none: no credentials, no AUTH)\n',
    ].join('\n'),
  );
  return EXIT_OK;
}
