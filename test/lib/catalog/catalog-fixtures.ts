// Catalogs derived from the sample, for the catalog source, validation and
// cdm-validate node tests: new shipment versions, migrations both ways, and
// deprecations with a sunset in the past or the future.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { editJson, sampleFiles } from './helpers';

/** shipment 1.1.0 with a new $id and an edit: the way a central team adds a version. */
export function shipmentVersion(version: string, edit: (schema: { properties: Record<string, unknown>; required: string[] }) => void): string {
  const schema = JSON.parse(sampleFiles().get('shipment/1.1.0.schema.json') ?? '') as { $id: string; title: string; properties: Record<string, unknown>; required: string[] };
  schema.$id = `https://tectonic.example/cdm/shipment/${version}`;
  schema.title = `Shipment event ${version}`;
  edit(schema);
  return JSON.stringify(schema, null, 2);
}

/** Closed model, BACKWARD: an optional field is compatible. */
export const COMPATIBLE_SHIPMENT_120 = shipmentVersion('1.2.0', (s) => {
  s.properties.reference = { type: 'string', maxLength: 40 };
});

/** A new required field: old records lack it, so BACKWARD breaks (required-added). */
export const BREAKING_SHIPMENT_120 = shipmentVersion('1.2.0', (s) => {
  s.properties.priority = { type: 'integer' };
  s.required.push('priority');
});

const SHIPMENT_FIELDS = ['shipmentId', 'occurredAt', 'status', 'weightKg', 'siteId'];

function migration(version: string, extra: Array<Record<string, unknown>>): string {
  return JSON.stringify({ entity: 'shipment', version, rules: [...SHIPMENT_FIELDS.map((f) => ({ to: f, from: f })), { to: 'carrier.name', from: 'carrier.name', optional: true }, ...extra] }, null, 2);
}

/**
 * The sample plus shipment 1.2.0 and migrations 1.0.0 -> 1.1.0 (the
 * sample's), 1.1.0 -> 1.2.0, and back down 1.2.0 -> 1.1.0 -> 1.0.0. The
 * down-migration to 1.0.0 keeps `status`, so a "cancelled" shipment (new in
 * 1.1.0) does not validate as 1.0.0 after the cast.
 */
export function castingCatalog(): Map<string, string> {
  // A sunset far away, so casts from 1.0.0 keep passing after the sample's own sunset (2027-06-30).
  const files = withShipmentSunset('2099-12-31');
  files.set('shipment/1.2.0.schema.json', COMPATIBLE_SHIPMENT_120);
  files.set('shipment/migrations/1.1.0-to-1.2.0.json', migration('1.2.0', [{ to: 'carrier.scac', from: 'carrier.scac', optional: true }, { to: 'trackingUrl', from: 'trackingUrl', optional: true }, { to: 'reference', value: 'UPCAST' }]));
  files.set('shipment/migrations/1.2.0-to-1.1.0.json', migration('1.1.0', [{ to: 'carrier.scac', from: 'carrier.scac', optional: true }, { to: 'trackingUrl', from: 'trackingUrl', optional: true }]));
  files.set('shipment/migrations/1.1.0-to-1.0.0.json', migration('1.0.0', []));
  return files;
}

/** The sample with shipment 1.0.0's sunset moved to `sunset` (YYYY-MM-DD). */
export function withShipmentSunset(sunset: string, files = sampleFiles()): Map<string, string> {
  return editJson(files, 'catalog.json', (c) => {
    const shipment = (c.entities as Record<string, { versions: Record<string, unknown> }>).shipment!;
    shipment.versions['1.0.0'] = { deprecated: { sunset, note: 'move to shipment 1.1.0' } };
  });
}

export function isoDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

export async function writeCatalog(dir: string, files: ReadonlyMap<string, string>): Promise<void> {
  for (const [path, text] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

/** A valid shipment record (1.0.0 and later). */
export function shipment(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { shipmentId: 'SHP-1', occurredAt: '2026-11-24T07:00:00Z', status: 'delivered', weightKg: 12.5, siteId: 'site-a', ...overrides };
}
