import type { EnvelopeOrigin } from '../envelope/new-envelope';
import { describeReasons } from '../reasons';
import { type CompiledMapping, compileMappingSpec } from './compile';
import { type SpecSourceFields, type SpecSourceSettings, parseSpecSource } from './spec-source';

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
  const where = originOf(config, env);
  if (!where.ok) return where;
  const mapping = compiled.value;
  return { ok: true, settings: { mapping, origin: { entity: mapping.entity, version: mapping.version, ...where.value } } };
}

function originOf(config: MapConfig, env: (name: string) => string | undefined): { ok: true; value: { site: string; source: string } } | { ok: false; problem: string } {
  let site = config.site ?? '';
  if (config.siteType === 'env') site = String(env(site) ?? '');
  if (site === '') return { ok: false, problem: config.siteType === 'env' ? `environment variable ${config.site} (the site id) is not set` : 'no site id configured' };
  const source = (config.source ?? '').trim() || `urn:tectonic:${site}:node-red`;
  return { ok: true, value: { site, source } };
}

/** Where the node's spec comes from, and, for its own rules, the spec compiled. */
export interface MapNodeSettings {
  spec: SpecSourceSettings;
  site: string;
  source: string;
  /** The node's rules compiled; undefined when a file or URL gives the spec. */
  mapping?: CompiledMapping;
}

/**
 * cdm-map's settings with its spec source (issue 21): the node's rules as
 * parseMapSettings reads them, or a file or URL whose spec the node waits
 * for (the rules in the node are then not compiled: they are not used).
 */
export function parseMapNodeSettings(config: MapConfig & SpecSourceFields, env: (name: string) => string | undefined): { ok: true; settings: MapNodeSettings } | { ok: false; problem: string } {
  const spec = parseSpecSource(config, (name) => {
    const value = env(name);
    return value === undefined ? undefined : String(value);
  });
  if (!spec.ok) return spec;
  if (spec.value.kind === 'rules') {
    const parsed = parseMapSettings(config, env);
    if (!parsed.ok) return parsed;
    const { site, source } = parsed.settings.origin;
    return { ok: true, settings: { spec: spec.value, site, source, mapping: parsed.settings.mapping } };
  }
  const where = originOf(config, env);
  if (!where.ok) return where;
  return { ok: true, settings: { spec: spec.value, ...where.value } };
}
