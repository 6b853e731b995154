// Shared fixtures of the policy tests: a fixed clock inside the sample
// bundle's validity window, key pairs made per test run, and a builder for
// bundles with just the rules a case needs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject } from '../../../lib/catalog/types';
import { checkBundle, parseBundleText } from '../../../lib/policy/bundle-format';
import type { PolicyBundle } from '../../../lib/policy/bundle-format';
import { compilePolicy } from '../../../lib/policy/engine';
import type { CompiledPolicy, PolicyOptions } from '../../../lib/policy/engine';
import { generatePolicyKeyPair, signBundle } from '../../../lib/policy/signature';
import type { PolicyKeyPair } from '../../../lib/policy/signature';

export const NOW = new Date('2026-11-25T12:00:00Z');
export const clock = (): Date => NOW;
export const HASH_KEY = 'site-secret-for-tests';

export const root = join(__dirname, '../../..');

let cachedKeys: PolicyKeyPair | undefined;
/** One key pair per test file: generation is cheap, but not free. */
export function keys(): PolicyKeyPair {
  return (cachedKeys ??= generatePolicyKeyPair());
}

export function document(rules: unknown[], overrides: Record<string, unknown> = {}): JsonObject {
  return {
    id: 'test-policy',
    version: 3,
    issuedAt: '2026-11-24T00:00:00Z',
    expiresAt: '2026-12-24T00:00:00Z',
    rules,
    ...overrides,
  } as JsonObject;
}

export function bundle(rules: unknown[], overrides: Record<string, unknown> = {}): PolicyBundle {
  const checked = checkBundle(document(rules, overrides));
  if (!checked.ok) throw new Error(`fixture bundle is invalid: ${JSON.stringify(checked.reasons)}`);
  return checked.value;
}

export function compiled(rules: unknown[], options: Partial<PolicyOptions> = {}): CompiledPolicy {
  const result = compilePolicy(bundle(rules), { now: clock, hashKey: HASH_KEY, site: 'site-a', ...options });
  if (!result.ok) throw new Error(`fixture policy does not compile: ${JSON.stringify(result.reasons)}`);
  return result.policy;
}

export function signed(doc: JsonObject, pair: PolicyKeyPair = keys()): JsonObject {
  const result = signBundle(doc, pair.privateKeyPem);
  if (!result.ok) throw new Error(result.reason.message);
  return result.signed;
}

export function sampleDocument(): JsonObject {
  const parsed = parseBundleText(readFileSync(join(root, 'policies/central-default.yaml'), 'utf8'));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.reasons));
  return parsed.value as JsonObject;
}

export const shipmentCdm = { entity: 'shipment', version: '1.1.0', site: 'site-a', id: '01J0', time: '2026-11-25T10:00:00Z', source: 'urn:test', validated: 'shipment@1.1.0' };
export const labCdm = { entity: 'lab-result', version: '1.1.0', site: 'clinic-3', id: '01J1', time: '2026-11-25T10:00:00Z', source: 'urn:test', validated: 'lab-result@1.1.0' };

export const shipment = { shipmentId: 'SHP-1', occurredAt: '2026-11-24T10:15:00Z', status: 'delivered', weightKg: 12.5, siteId: 'site-a', carrier: { name: 'DHL', scac: 'DHL' } };
export const labResult = {
  resultId: 'R-1',
  patient: { name: 'Ada Lovelace', birthDate: '1815-12-10', ids: [{ system: 'mrn', value: 'MRN-12345' }, { system: 'insurance', value: 'INS-998877' }] },
  analyte: '2345-7',
  specimen: 'serum',
  result: { value: 5.4, unit: 'mmol/L' },
  flag: 'normal',
  reportedBy: 'lab@clinic.example',
  collectedAt: '2026-11-24T08:00:00+01:00',
  siteId: 'clinic-3',
};
