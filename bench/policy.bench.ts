import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkBundle, parseBundleText } from '../lib/policy/bundle-format';
import { compilePolicy } from '../lib/policy/engine';
import type { CompiledPolicy, PolicyInput } from '../lib/policy/engine';
import { PIPELINE_POLICY_RULES } from './pipeline/flows';

/**
 * Policy evaluations per second (issue 5): a realistic bundle of a dozen
 * rules with two masks and two conditions, then the sample bundle
 * policies/central-default.yaml. Bounded: at most ITERATIONS evaluations or
 * TIME_CAP_MS per case, whichever comes first, so `npm run bench` ends quickly.
 */
const ITERATIONS = 500_000;
const TIME_CAP_MS = 1_000;
const now = new Date('2026-11-25T12:00:00Z');

const dozen = {
  id: 'bench',
  version: 1,
  issuedAt: '2026-11-24T00:00:00Z',
  expiresAt: '2026-12-24T00:00:00Z',
  rules: [
    { allow: { entities: { shipment: '>=1.0.0 <2.0.0', 'lab-result': '>=1.1.0 <2.0.0' } } },
    { maxBytes: 65536 },
    { validation: 'required' },
    { transport: { tls: 'required' } },
    { mask: { entity: 'lab-result', paths: ['patient.name', 'patient.ids[*].value'], method: 'hash' } },
    { mask: { paths: ['reportedBy', 'carrier.scac'], method: 'partial', keep: 4 } },
    { deny: { entity: 'shipment', when: 'payload.weightKg > 1000.0', reason: 'implausible weight' } },
    { require: { when: 'cdm.site == "clinic-3" || cdm.site == "site-a"', reason: 'unknown site' } },
    { maxBytes: { limit: 16384, entity: 'lab-result' } },
    { retry: { maxAttempts: 5, backoffMs: 1000 } },
    { rate: { entity: 'shipment', perSecond: 200 } },
    { rate: { perSecond: 500 } },
  ],
};

const shipment: PolicyInput = {
  payload: { shipmentId: 'SHP-1', occurredAt: '2026-11-24T10:15:00Z', status: 'delivered', weightKg: 12.5, siteId: 'site-a', carrier: { name: 'DHL', scac: 'DHL' } },
  cdm: { entity: 'shipment', version: '1.1.0', site: 'site-a', id: '01J0', time: '2026-11-25T10:00:00Z', source: 'urn:bench', validated: 'shipment@1.1.0' },
  transport: { tls: true },
};
const labResult: PolicyInput = {
  payload: { resultId: 'R-1', patient: { name: 'Ada Lovelace', birthDate: '1815-12-10', ids: [{ system: 'mrn', value: '12345' }, { system: 'insurance', value: 'INS-9' }] }, analyte: '2345-7', specimen: 'serum', result: { value: 5.4, unit: 'mmol/L' }, flag: 'normal', reportedBy: 'lab@clinic.example', collectedAt: '2026-11-24T08:00:00+01:00', siteId: 'clinic-3' },
  cdm: { entity: 'lab-result', version: '1.1.0', site: 'clinic-3', id: '01J1', time: '2026-11-25T10:00:00Z', source: 'urn:bench', validated: 'lab-result@1.1.0' },
  transport: { tls: true },
};
const denied: PolicyInput = { ...shipment, payload: { ...(shipment.payload as object), weightKg: 5000 } };

/** The pipeline bench's bundle (bench/pipeline/flows.ts writePolicyFiles) and a record as cdm-validate hands it on, at a gate with no bus named. */
const pipeline = {
  id: 'bench-policy',
  version: 1,
  issuedAt: '2026-11-24T00:00:00Z',
  expiresAt: '2026-12-24T00:00:00Z',
  rules: PIPELINE_POLICY_RULES,
};
const pipelineRecord: PolicyInput = {
  payload: { shipmentId: 'SHP-1-4711', occurredAt: '2026-03-14T09:31:00.000Z', status: 'in_transit', weightKg: 1234.56, siteId: 'hub-fra', carrier: { name: 'DB SCHENKER' } },
  cdm: { entity: 'shipment', version: '1.1.0', site: 'site-fra', id: '01JD8X3Q4V7W9YZABCDEFGHJKM', time: '2026-11-25T10:00:00.000Z', source: 'urn:tectonic:site-fra:wms', validated: 'shipment@1.1.0' },
};

function compile(document: unknown, site: string): CompiledPolicy {
  const checked = checkBundle(document);
  if (!checked.ok) throw new Error(`bench bundle is invalid: ${JSON.stringify(checked.reasons)}`);
  const compiled = compilePolicy(checked.value, { now: () => now, hashKey: 'bench secret', site });
  if (!compiled.ok) throw new Error(`bench bundle does not compile: ${JSON.stringify(compiled.reasons)}`);
  return compiled.policy;
}

function measure(label: string, policy: CompiledPolicy, input: PolicyInput, pass: boolean): void {
  if (policy.evaluate(input).pass !== pass) throw new Error(`${label}: expected ${pass ? 'pass' : 'reject'}`);
  let n = 0;
  const start = performance.now();
  const deadline = start + TIME_CAP_MS;
  // Check the clock every 1000 evaluations so timing does not dominate.
  while (n < ITERATIONS && (n % 1000 !== 0 || performance.now() < deadline)) {
    policy.evaluate(input);
    n++;
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(`${label.padEnd(44)} ${Math.round(n / seconds).toLocaleString('en-US').padStart(11)} evaluations/s  (${n} in ${seconds.toFixed(2)} s)`);
}

function main(): number {
  const compileStart = performance.now();
  const atClinic = compile(dozen, 'clinic-3');
  console.log(`compiled a ${dozen.rules.length}-rule bundle in ${(performance.now() - compileStart).toFixed(1)} ms`);
  measure('pipeline bundle, shipment (pass, 1 masked)', compile(pipeline, 'site-fra'), pipelineRecord, true);
  measure('12 rules, shipment (pass)', compile(dozen, 'site-a'), shipment, true);
  measure('12 rules, shipment (denied)', compile(dozen, 'site-a'), denied, false);
  measure('12 rules, lab-result (pass, 3 values hashed)', atClinic, labResult, true);

  const sample = parseBundleText(readFileSync(join(__dirname, '../policies/central-default.yaml'), 'utf8'));
  if (!sample.ok) throw new Error(JSON.stringify(sample.reasons));
  measure('central-default.yaml, shipment (pass)', compile(sample.value, 'site-a'), shipment, true);
  measure('central-default.yaml, lab-result (pass)', compile(sample.value, 'clinic-3'), labResult, true);
  return 0;
}

process.exitCode = main();
