import type { EnvelopeOrigin } from '../envelope/new-envelope';
import { describeReasons } from '../reasons';
import { type CompiledMapping, compileMappingSpec } from './compile';

/** cdm-map's configuration as the editor saves it. */
export interface MapConfig {
  entity?: string;
  version?: string;
  site?: string;
  siteType?: string;
  source?: string;
  rules?: unknown;
  /**
   * The spec's `id.from` as the editor's one text field: source paths
   * separated by commas (`shp_no, dt`); empty or absent: no `id`.
   */
  idFrom?: string;
}

/** The compiled mapping, and what every envelope the node makes says about where the record comes from. */
export interface MapSettings {
  mapping: CompiledMapping;
  origin: EnvelopeOrigin;
}

export type MapSettingsOutcome = { ok: true; settings: MapSettings } | { ok: false; problem: string };

/**
 * The spec compiled once, the site as typed or, for the `env` type, the
 * value of the environment variable it names (`env` reads one: Node-RED's
 * own lookup in the node, a table in tests), and the source, by default the
 * site's Node-RED. A spec that does not compile is named first.
 * Node-RED's lookup can give a flow's env value as a number or boolean, hence
 * the String() on what `env` returns.
 */
export function parseMapSettings(config: MapConfig, env: (name: string) => string | undefined): MapSettingsOutcome {
  const idFrom = (config.idFrom ?? '').trim();
  const spec: Record<string, unknown> = { entity: config.entity, version: config.version, rules: config.rules };
  if (idFrom !== '') spec.id = { from: idFrom.split(',').map((path) => path.trim()) };
  const compiled = compileMappingSpec(spec);
  if (!compiled.ok) return { ok: false, problem: `the mapping spec does not compile: ${describeReasons(compiled.reasons)}` };
  let site = config.site ?? '';
  if (config.siteType === 'env') site = String(env(site) ?? '');
  if (site === '') return { ok: false, problem: config.siteType === 'env' ? `environment variable ${config.site} (the site id) is not set` : 'no site id configured' };
  const mapping = compiled.value;
  const source = (config.source ?? '').trim() || `urn:tectonic:${site}:node-red`;
  return { ok: true, settings: { mapping, origin: { entity: mapping.entity, version: mapping.version, site, source } } };
}
