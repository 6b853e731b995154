import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { validateCanonical } from '../lib/catalog/canonical-validation';
import { loadCatalogFromDirectory, readCatalogFolder } from '../lib/catalog/catalog-loader';
import { CatalogStore } from '../lib/catalog/catalog-store';
import { compileCatalogValidators } from '../lib/catalog/catalog-validators';

/**
 * Validations per second of the compiled catalog validator on the sample
 * entities. Bounded: at most ITERATIONS validations or TIME_CAP_MS per case,
 * whichever comes first, so `npm run bench` always ends quickly.
 */
const ITERATIONS = 200_000;
const TIME_CAP_MS = 1_000;

const samples: { entity: string; version: string; record: unknown; valid: boolean }[] = [
  { entity: 'shipment', version: '1.1.0', valid: true, record: { shipmentId: 'SHP-1', occurredAt: '2026-11-24T10:15:00Z', status: 'delivered', weightKg: 12.5, siteId: 'site-a', carrier: { name: 'DHL', scac: 'DHL' } } },
  { entity: 'shipment', version: '1.1.0', valid: false, record: { shipmentId: 42, occurredAt: 'yesterday', status: 'gone', weightKg: -1, siteId: 'Site A' } },
  { entity: 'inventory-level', version: '1.2.0', valid: true, record: { sku: 'ART-0001', storeId: 'store-12', onHand: 40, reserved: 3, unit: 'each', countedAt: '2026-11-24T06:00:00Z' } },
  { entity: 'quality-measurement', version: '1.0.1', valid: true, record: { measurementId: '7c9e6679-7425-40de-944b-e07fc1f90ae7', lineId: 'L2', characteristic: 'bore-diameter', measured: { value: 12.01, unit: 'mm' }, lowerLimit: 11.9, upperLimit: 12.1, verdict: 'pass', measuredAt: '2026-11-24T06:00:00Z', siteId: 'plant-1' } },
  { entity: 'lab-result', version: '1.1.0', valid: true, record: { resultId: 'R-1', patient: { name: 'Ada Lovelace', birthDate: '1815-12-10', ids: [{ system: 'mrn', value: '12345' }] }, analyte: '2345-7', specimen: 'serum', result: { value: 5.4, unit: 'mmol/L' }, flag: 'normal', reportedBy: 'lab@clinic.example', collectedAt: '2026-11-24T08:00:00+01:00', siteId: 'clinic-3' } },
];

async function main(): Promise<number> {
  const loaded = await loadCatalogFromDirectory(join(__dirname, '../cdm'));
  if (!loaded.ok) throw new Error(`sample catalog does not load: ${JSON.stringify(loaded.reasons)}`);
  const compileStart = performance.now();
  const compiled = compileCatalogValidators(loaded.catalog);
  if (!compiled.ok) throw new Error(`sample catalog does not compile: ${JSON.stringify(compiled.reasons)}`);
  console.log(`compiled ${compiled.validators.versions.length} schemas in ${(performance.now() - compileStart).toFixed(1)} ms`);
  const { validateRecord } = compiled.validators;
  for (const s of samples) {
    if (validateRecord(s.entity, s.version, s.record).ok !== s.valid) throw new Error(`${s.entity}@${s.version}: sample is not ${s.valid ? 'valid' : 'invalid'}`);
    let n = 0;
    const start = performance.now();
    const deadline = start + TIME_CAP_MS;
    // Check the clock every 1000 validations so timing does not dominate.
    while (n < ITERATIONS && (n % 1000 !== 0 || performance.now() < deadline)) {
      validateRecord(s.entity, s.version, s.record);
      n++;
    }
    const seconds = (performance.now() - start) / 1000;
    console.log(`${`${s.entity}@${s.version}`.padEnd(28)} ${s.valid ? 'valid  ' : 'invalid'}  ${Math.round(n / seconds).toLocaleString('en-US').padStart(11)} validations/s  (${n} in ${seconds.toFixed(2)} s)`);
  }

  // cdm-validate's whole decision for a record as cdm-map hands it on in the pipeline bench: target, sunset, limits, schema.
  const files = await readCatalogFolder(join(__dirname, '../cdm'));
  if (!files.ok) throw new Error(`sample catalog does not read: ${JSON.stringify(files.reasons)}`);
  const proposed = new CatalogStore().proposeFiles(files.files, 'bench');
  if (!proposed.ok) throw new Error(`sample catalog is refused: ${JSON.stringify(proposed.reasons)}`);
  const snapshot = proposed.snapshot;
  const request = {
    envelope: { entity: 'shipment', version: '1.1.0', site: 'site-fra', id: '01JD8X3Q4V7W9YZABCDEFGHJKM', time: '2026-11-25T10:00:00.000Z', source: 'urn:tectonic:site-fra:wms' },
    record: { shipmentId: 'SHP-1-4711', occurredAt: '2026-03-14T09:31:00.000Z', status: 'in_transit', weightKg: 1234.56, siteId: 'hub-fra', carrier: { name: 'DB SCHENKER' } },
    fixedEntity: '',
    fixedVersion: '',
    castTo: '',
  };
  const first = validateCanonical(snapshot, request);
  if (first instanceof Promise || !first.ok) throw new Error('the pipeline record does not validate');
  let n = 0;
  const start = performance.now();
  const deadline = start + TIME_CAP_MS;
  while (n < ITERATIONS && (n % 1000 !== 0 || performance.now() < deadline)) {
    // Synchronous without castTo; the check above made sure.
    void validateCanonical(snapshot, request);
    n++;
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(`${'validateCanonical, pipeline shipment'.padEnd(37)}  ${Math.round(n / seconds).toLocaleString('en-US').padStart(11)} validations/s  (${n} in ${seconds.toFixed(2)} s)`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
