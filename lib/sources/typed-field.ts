/**
 * Evaluates a typed input of type `env` the way the editor offers it (a
 * variable name, or `${NAME}` text); the adapter passes Node-RED's
 * evaluateNodeProperty, tests a map.
 */
export type EnvLookup = (value: string) => string | undefined;

/**
 * A config field that is a value or an environment variable, trimmed. An
 * unset (or empty) variable is a problem that names it: a flow template
 * deployed to a site that forgot one must say which.
 */
export function typedField(value: string | undefined, type: string | undefined, field: string, env: EnvLookup): { ok: true; text: string } | { ok: false; problem: string } {
  if (type !== 'env') return { ok: true, text: (value ?? '').trim() };
  const resolved = (env(value ?? '') ?? '').trim();
  if (resolved === '') return { ok: false, problem: `${field}: environment variable ${value ?? ''} is not set` };
  return { ok: true, text: resolved };
}
