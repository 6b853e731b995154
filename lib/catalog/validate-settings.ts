/** cdm-validate's configuration as the editor saves it. */
export interface ValidateConfig {
  entity?: string;
  entityType?: string;
  version?: string;
  versionType?: string;
  castTo?: string;
  castToType?: string;
}

/** What cdm-validate fixes for every message; '' where the envelope decides (or no cast). */
export interface ValidateSettings {
  entity: string;
  version: string;
  castTo: string;
}

export type ValidateSettingsOutcome = { ok: true; settings: ValidateSettings } | { ok: false; problem: string };

const FIELDS = ['entity', 'version', 'castTo'] as const;

/**
 * The settings, each either as typed or, for the `env` type, the value of
 * the environment variable it names (`env` reads one: Node-RED's own lookup
 * in the node, a table in tests). A variable that is not set is a problem,
 * not an empty setting: an empty entity would let the envelope decide.
 * Node-RED's lookup can give a flow's env value as a number or boolean, hence
 * the String() on what `env` returns.
 */
export function parseValidateSettings(config: ValidateConfig, env: (name: string) => string | undefined): ValidateSettingsOutcome {
  const settings: ValidateSettings = { entity: '', version: '', castTo: '' };
  for (const field of FIELDS) {
    const value = (config[field] ?? '').trim();
    if (config[`${field}Type`] !== 'env' || value === '') {
      settings[field] = value;
      continue;
    }
    const resolved = String(env(value) ?? '').trim();
    if (resolved === '') return { ok: false, problem: `${field}: environment variable ${value} is not set` };
    settings[field] = resolved;
  }
  return { ok: true, settings };
}
