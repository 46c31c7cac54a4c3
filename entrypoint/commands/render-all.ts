import type { Config } from '../config/config.js';
import type { RenderedConfig } from '../postfix/install-config.js';
import { renderMainCf, renderMainCfSettings } from '../render/main-cf.js';
import { renderMasterCf } from '../render/master-cf.js';
import { renderSaslMap } from '../render/sasl-map.js';

export function renderAll(config: Config, options: { listening: boolean } = { listening: true }): RenderedConfig {
  return {
    mainCf: renderMainCf(renderMainCfSettings(config)),
    masterCf: renderMasterCf(config, options),
    saslMap: renderSaslMap(config),
  };
}
