// cdm-validate's decision for one message, without Node-RED: the target from
// msg.cdm or the node's settings, unknown targets, sunsets, record limits,
// the schema check, and casts through the catalog's migrations.
import { describe, it } from 'mocha';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { validateCanonical } from '../../../lib/catalog/canonical-validation';
import type { ValidationRequest, ValidationVerdict } from '../../../lib/catalog/canonical-validation';
import { CatalogStore } from '../../../lib/catalog/catalog-store';
import type { CatalogSnapshot } from '../../../lib/catalog/catalog-store';
import { DEFAULT_RECORD_LIMITS, checkRecordLimits, recordLimitReasons } from '../../../lib/catalog/record-limits';
import { castingCatalog, isoDay, shipment, withShipmentSunset } from './catalog-fixtures';
import { sampleFiles } from './helpers';

function snapshotOf(files: Map<string, string>): CatalogSnapshot {
  const store = new CatalogStore();
  const outcome = store.proposeFiles(files, 'test');
  assert.ok(outcome.ok, JSON.stringify(!outcome.ok && outcome.reasons));
  return outcome.snapshot;
}

const sample = snapshotOf(sampleFiles());
const casting = snapshotOf(castingCatalog());

async function verdict(request: ValidationRequest, snapshot = sample): Promise<ValidationVerdict> {
  return await validateCanonical(snapshot, request);
}

function rejected(v: ValidationVerdict): Array<{ path: string; rule: string; message: string }> {
  assert.equal(v.ok, false, `expected a rejection, got ${JSON.stringify(v)}`);
  return v.ok ? [] : v.reasons;
}

const cdm = (entity: unknown, version: unknown): Record<string, unknown> => ({ entity, version, site: 'site-a', id: 'x1' });

describe('which schema applies', () => {
  it('entity@version from msg.cdm', async () => {
    const v = await verdict({ envelope: cdm('shipment', '1.1.0'), record: shipment() });
    assert.ok(v.ok);
    assert.equal(v.entity, 'shipment');
    assert.equal(v.version, '1.1.0');
    assert.equal(v.castFrom, undefined);
    assert.equal(v.deprecation, undefined);
  });

  it('fixed entity and version on the node, no msg.cdm', async () => {
    const v = await verdict({ envelope: undefined, record: shipment(), fixedEntity: 'shipment', fixedVersion: '1.1.0' });
    assert.ok(v.ok && v.version === '1.1.0');
  });

  const cases: Array<[string, ValidationRequest, string, string]> = [
    ['no msg.cdm and nothing fixed', { envelope: undefined, record: shipment() }, 'cdm.entity', 'required'],
    ['msg.cdm without a version', { envelope: { entity: 'shipment' }, record: shipment() }, 'cdm.version', 'required'],
    ['msg.cdm a string', { envelope: 'shipment@1.1.0', record: shipment() }, 'cdm', 'invalid-envelope'],
    ['msg.cdm.entity a number', { envelope: cdm(7, '1.1.0'), record: shipment() }, 'cdm.entity', 'type'],
    ['msg.cdm naming another entity than the node', { envelope: cdm('lab-result', '1.1.0'), record: shipment(), fixedEntity: 'shipment' }, 'cdm.entity', 'envelope-mismatch'],
    ['an unknown entity', { envelope: cdm('parcel', '1.0.0'), record: shipment() }, 'cdm.entity', 'unknown-entity'],
    ['an unknown version', { envelope: cdm('shipment', '9.0.0'), record: shipment() }, 'cdm.version', 'unknown-version'],
  ];
  for (const [what, request, path, rule] of cases) {
    it(`rejected: ${what} (${path} ${rule})`, async () => {
      const reasons = rejected(await verdict(request));
      assert.ok(reasons.some((r) => r.path === path && r.rule === rule), JSON.stringify(reasons));
    });
  }

  it('the unknown-version reason lists the versions there are', async () => {
    const [reason] = rejected(await verdict({ envelope: cdm('shipment', '2.0.0'), record: shipment() }));
    assert.match(reason?.message ?? '', /shipment 2\.0\.0, which the catalog \([0-9a-f]{8}\) does not have; it has 1\.0\.0, 1\.1\.0/);
  });
});

describe('the record', () => {
  it('a wrong-typed id is rejected with its path and plain words', async () => {
    const reasons = rejected(await verdict({ envelope: cdm('shipment', '1.1.0'), record: shipment({ shipmentId: 42 }) }));
    assert.deepEqual(reasons, [{ path: 'shipmentId', rule: 'type', message: 'must be string, got integer' }]);
  });

  it('formats are assertions: date-time and uri', async () => {
    const reasons = rejected(await verdict({ envelope: cdm('shipment', '1.1.0'), record: shipment({ occurredAt: 'yesterday', trackingUrl: 'not a uri' }) }));
    assert.deepEqual(reasons.map((r) => `${r.path} ${r.rule}`).sort(), ['occurredAt format', 'trackingUrl format']);
  });

  const hostile: Array<[string, unknown, string]> = [
    ['nested 10,000 deep', JSON.parse('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)) as unknown, 'too-deep'],
    ['a cycle', (() => { const r: Record<string, unknown> = shipment(); r.self = r; return r; })(), 'too-deep'],
    ['a __proto__ key', JSON.parse('{"shipmentId":"S","__proto__":{"polluted":true}}') as unknown, 'forbidden-key'],
    ['a constructor.prototype key', { shipmentId: 'S', constructor: { prototype: { polluted: true } } }, 'forbidden-key'],
    ['a 2 MB string', shipment({ shipmentId: 'x'.repeat(2_000_000) }), 'string-too-long'],
    ['200,000 values', { list: new Array<number>(200_000).fill(1) }, 'too-many-values'],
  ];
  for (const [what, record, rule] of hostile) {
    it(`hostile: ${what} is rejected (${rule}), quickly`, async () => {
      const started = Date.now();
      const reasons = rejected(await verdict({ envelope: cdm('shipment', '1.1.0'), record }));
      assert.ok(reasons.some((r) => r.rule === rule), JSON.stringify(reasons).slice(0, 500));
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }

  it('record limits: a normal record breaks none; each reason names where', () => {
    assert.deepEqual(checkRecordLimits(shipment({ carrier: { name: 'X' } })), []);
    const [deep] = checkRecordLimits({ a: { b: { c: 1 } } }, { ...DEFAULT_RECORD_LIMITS, maxDepth: 2 });
    assert.deepEqual(deep, { path: 'a.b', rule: 'too-deep', message: 'is nested deeper than 2 levels' });
  });

  it('record limits: the quick pass and the worded walk agree, property-based', () => {
    // checkRecordLimits answers in-bounds records from a pass that words nothing; whatever the record and limits, its answer is the worded walk's.
    const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constant('__proto__'));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 0 }), fc.string({ maxLength: 12 }), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 4 })),
    })).node;
    const limits = fc.record({ maxDepth: fc.integer({ min: 0, max: 5 }), maxNodes: fc.integer({ min: 1, max: 30 }), maxStringLength: fc.integer({ min: 0, max: 10 }) });
    fc.assert(
      fc.property(value, limits, (record, l) => assert.deepEqual(checkRecordLimits(record, l), recordLimitReasons(record, l))),
      { numRuns: 5000 },
    );
  });
});

describe('deprecation and sunset', () => {
  it('a deprecated version before its sunset passes and says so', async () => {
    const v = await verdict({ envelope: cdm('shipment', '1.0.0'), record: shipment(), now: new Date('2027-06-30T23:59:59Z') });
    assert.ok(v.ok);
    assert.deepEqual(v.deprecation, { deprecated: true, pastSunset: false, sunset: '2027-06-30', note: v.deprecation?.note, entity: 'shipment', version: '1.0.0' });
  });

  it('after the sunset day it is rejected with rule sunset', async () => {
    const reasons = rejected(await verdict({ envelope: cdm('shipment', '1.0.0'), record: shipment(), now: new Date('2027-07-01T00:00:00Z') }));
    assert.equal(reasons[0]?.rule, 'sunset');
    assert.equal(reasons[0]?.path, 'cdm.version');
    assert.match(reasons[0]?.message ?? '', /sunset 2027-06-30 has passed/);
  });

  it('a catalog with a sunset yesterday rejects today', async () => {
    const snapshot = snapshotOf(withShipmentSunset(isoDay(-1)));
    assert.equal(rejected(await verdict({ envelope: cdm('shipment', '1.0.0'), record: shipment() }, snapshot))[0]?.rule, 'sunset');
  });
});

describe('casts through the catalog migrations', () => {
  it('routes chain migrations, up and down, fewest steps', () => {
    const route = (from: string, to: string): string[] | undefined => casting.casts.route('shipment', from, to)?.map((m) => `${m.from}>${m.to}`);
    assert.deepEqual(route('1.0.0', '1.2.0'), ['1.0.0>1.1.0', '1.1.0>1.2.0']);
    assert.deepEqual(route('1.2.0', '1.0.0'), ['1.2.0>1.1.0', '1.1.0>1.0.0']);
    assert.deepEqual(route('1.1.0', '1.1.0'), []);
    assert.equal(sample.casts.route('shipment', '1.1.0', '1.0.0'), undefined, 'the sample has no down-migration');
    assert.equal(casting.casts.route('lab-result', '1.1.0', '1.0.0'), undefined);
  });

  it('up-cast 1.0.0 -> 1.2.0 in two steps; the result is the target version and the input is untouched', async () => {
    const record = shipment({ carrier: { name: 'Rhenus' } });
    const copy = structuredClone(record);
    const v = await verdict({ envelope: cdm('shipment', '1.0.0'), record, castTo: '1.2.0' }, casting);
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(v.version, '1.2.0');
    assert.equal(v.castFrom, '1.0.0');
    assert.deepEqual(v.record, { ...record, reference: 'UPCAST' });
    assert.deepEqual(record, copy);
    assert.ok(v.deprecation, 'the version it arrived with is still reported deprecated');
  });

  it('down-cast 1.2.0 -> 1.0.0 drops what 1.0.0 does not have', async () => {
    const v = await verdict({ envelope: cdm('shipment', '1.2.0'), record: shipment({ reference: 'R', trackingUrl: 'https://t.example/1', carrier: { name: 'DHL', scac: 'DHLX' } }), castTo: '1.0.0' }, casting);
    assert.ok(v.ok, JSON.stringify(v));
    assert.deepEqual(v.record, shipment({ carrier: { name: 'DHL' } }));
  });

  it('a cast result the target refuses is rejected (cast-invalid) with the target\'s reasons', async () => {
    const reasons = rejected(await verdict({ envelope: cdm('shipment', '1.1.0'), record: shipment({ status: 'cancelled' }), castTo: '1.0.0' }, casting));
    assert.equal(reasons[0]?.rule, 'cast-invalid');
    assert.ok(reasons.some((r) => r.path === 'status' && r.rule === 'enum'), JSON.stringify(reasons));
  });

  const problems: Array<[string, ValidationRequest, string]> = [
    ['no chain of migrations', { envelope: cdm('shipment', '1.1.0'), record: shipment(), castTo: '1.0.0' }, 'no-migration'],
    ['a target version that does not exist', { envelope: cdm('shipment', '1.1.0'), record: shipment(), castTo: '3.0.0' }, 'unknown-version'],
    ['an invalid record is not cast', { envelope: cdm('shipment', '1.0.0'), record: shipment({ weightKg: -1 }), castTo: '1.1.0' }, 'minimum'],
  ];
  for (const [what, request, rule] of problems) {
    it(`rejected: ${what} (${rule})`, async () => {
      const reasons = rejected(await verdict(request));
      assert.ok(reasons.some((r) => r.rule === rule), JSON.stringify(reasons));
    });
  }

  it('a catalog whose migration does not compile is refused as a whole', () => {
    const files = castingCatalog().set('shipment/migrations/1.2.0-to-1.1.0.json', JSON.stringify({ rules: [{ to: 'status', from: 'status', transforms: [{ nonsense: {} }] }] }));
    const outcome = new CatalogStore().proposeFiles(files, 'test');
    assert.ok(!outcome.ok && outcome.reasons.some((r) => r.rule === 'invalid-mapping-spec' && r.path.startsWith('shipment/migrations/1.2.0-to-1.1.0.json')), JSON.stringify(outcome));
  });
});
