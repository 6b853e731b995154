// The envelope id made from the record (docs/mapping-spec.md, "The envelope
// id"): a spec's `id` gives the same id for the same key and refuses a record
// whose key is missing or not a scalar; without one, a message an entry that
// redelivers marked gets an id from the input; anything else a ULID, as before.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { isInputId, keyEnvelopeId, keyText } from '../../../lib/envelope/derived-id';
import { markRecordEntry } from '../../../lib/envelope/entry-mark';
import type { PipelineMessage } from '../../../lib/envelope/pipeline-message';
import type { MapResult } from '../../../lib/mapping/compile';
import { applyMapping } from '../../../lib/mapping/map-message';
import { compiled, mapNow } from './helpers';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const rules = [{ to: 'shipmentId', from: 'shp_no' }, { to: 'at', from: 'dt', optional: true }];
const keyed = compiled({ entity: 'shipment', version: '1.0.0', id: { from: ['shp_no', 'dt'], description: 'a shipment event' }, rules });
const plain = compiled({ entity: 'shipment', version: '1.0.0', rules });
const readings = compiled({ entity: 'shipment', version: '1.0.0', rules: [{ to: 'celsius', from: 'c' }] });
const origin = (site: string): { entity: string; version: string; site: string; source: string } => ({ entity: 'shipment', version: '1.0.0', site, source: `urn:tectonic:${site}:node-red` });

/** The envelope id cdm-map would give `msg`, mapped with `mapping` at `site`. */
function idOf(mapping: typeof keyed, msg: PipelineMessage, site = 'site-a'): string {
  const result: MapResult = mapNow(mapping, msg.payload);
  assert.ok(applyMapping(msg, result, origin(site)), JSON.stringify(msg.reject));
  return (msg.cdm as { id: string }).id;
}

describe('the envelope id', () => {
  describe('from the key a spec names', () => {
    const record = { shp_no: 'SHP-1', dt: '24/11/2026 08:30', stat: 'DLV' };

    it('the key is on the result, and the id is the key id of site, entity and values', () => {
      assert.deepEqual(mapNow(keyed, record), { ok: true, value: { shipmentId: 'SHP-1', at: '24/11/2026 08:30' }, key: '"SHP-1","24/11/2026 08:30"' });
      assert.equal(keyed.keyed, true);
      assert.equal(plain.keyed, false);
      const id = idOf(keyed, { payload: { ...record } });
      assert.match(id, UUID_V5);
      assert.equal(id, keyEnvelopeId('site-a', 'shipment', keyText(['SHP-1', '24/11/2026 08:30'])));
    });

    const cases: Array<[string, PipelineMessage, string, boolean]> = [
      ['the same record again', { payload: { ...record } }, 'site-a', true],
      ['the same key, another field changed', { payload: { ...record, stat: 'TRN' } }, 'site-a', true],
      ['the same record with an entry mark: the spec\'s key wins', { payload: { ...record }, tectonic: markRecordEntry('t', 0) }, 'site-a', true],
      ['the same record at another site', { payload: { ...record } }, 'site-b', false],
      ['another key value', { payload: { ...record, dt: '24/11/2026 08:31' } }, 'site-a', false],
      ['a number where the text was', { payload: { ...record, shp_no: 1 } }, 'site-a', false],
    ];
    const first = idOf(keyed, { payload: { ...record } });
    for (const [name, msg, site, same] of cases) {
      it(`${name}: ${same ? 'the same id' : 'another id'}`, () => assert.equal(idOf(keyed, msg, site) === first, same));
    }

    const refusals: Array<[string, unknown, [string, string, RegExp][]]> = [
      ['a missing key field', { shp_no: 'SHP-1' }, [['cdm.id', 'missing', /^from "dt": the key field is missing, and the envelope id is made from it$/]]],
      ['a null key field', { shp_no: 'SHP-1', dt: null }, [['cdm.id', 'missing', /from "dt"/]]],
      ['an object as key value', { shp_no: { no: 1 }, dt: 'x' }, [['cdm.id', 'type', /^from "shp_no": object cannot be part of the envelope id \(text, a finite number or a boolean\)$/]]],
      ['an array and NaN (which the rule for "at" refuses as well, first)', { shp_no: [1], dt: Number.NaN }, [['at', 'json', /NaN/], ['cdm.id', 'type', /from "shp_no": array/], ['cdm.id', 'type', /from "dt": NaN/]]],
      ['a rule\'s reason comes first, then the key\'s', { dt: 'x' }, [['shipmentId', 'missing', /from "shp_no"/], ['cdm.id', 'missing', /from "shp_no"/]]],
    ];
    for (const [name, input, expected] of refusals) {
      it(`refused: ${name}, never a random id`, () => {
        const result = mapNow(keyed, input);
        assert.ok(!result.ok, JSON.stringify(result));
        assert.deepEqual(result.reasons.map((r) => [r.path, r.rule]), expected.map(([p, r]) => [p, r]));
        expected.forEach(([, , message], i) => assert.match(result.reasons[i]?.message ?? '', message));
      });
    }

    it('a record that is not an object has only its own reason', () => {
      const result = mapNow(keyed, 'SHP-1');
      assert.deepEqual(result.ok ? [] : result.reasons.map((r) => [r.path, r.rule]), [['', 'type']]);
    });

    it('an asynchronous spec (an expression) carries the key as well', async () => {
      const withExpression = compiled({ entity: 'shipment', version: '1.0.0', id: { from: ['shp_no'] }, rules: [{ to: 'ref', expression: 'shp_no' }] });
      assert.equal(withExpression.sync, false);
      assert.deepEqual(await withExpression.map({ shp_no: 'A' }), { ok: true, value: { ref: 'A' }, key: '"A"' });
      const refused = await withExpression.map({});
      assert.deepEqual(refused.ok ? [] : refused.reasons.map((r) => [r.path, r.rule]), [['ref', 'missing'], ['cdm.id', 'missing']]);
    });
  });

  describe('from the input, when the spec names no key', () => {
    const marked = (topic = 'site/fra/sensors/t1', receivedAt = 0): PipelineMessage => ({ payload: { c: 21 }, topic, tectonic: markRecordEntry(topic, receivedAt) });
    const first = idOf(readings, marked());

    const cases: Array<[string, PipelineMessage, string, boolean]> = [
      ['a redelivery of the same input, later', marked('site/fra/sensors/t1', 30_000), 'site-a', true],
      ['the same payload on another topic', marked('site/fra/sensors/t2'), 'site-a', false],
      ['msg.topic changed by the flow: the entry\'s topic counts', { ...marked(), topic: 'renamed' }, 'site-a', true],
      ['the same input at another site', marked(), 'site-b', false],
      ['another record made from the same input (a split part)', { ...marked(), payload: { c: 22 } }, 'site-a', false],
    ];
    for (const [name, msg, site, same] of cases) {
      it(`${name}: ${same ? 'the same id' : 'another id'}`, () => {
        const id = idOf(readings, msg, site);
        assert.equal(isInputId(id), true, id);
        assert.equal(id === first, same);
      });
    }

    it('the envelope\'s time is still the time it was made, and the correlation is the id', () => {
      const msg = marked();
      applyMapping(msg, mapNow(readings, msg.payload), { ...origin('site-a'), now: () => Date.UTC(2026, 10, 24, 8) });
      const cdm = msg.cdm as { id: string; time: string; correlationId: string };
      assert.equal(cdm.time, '2026-11-24T08:00:00.000Z');
      assert.equal(cdm.correlationId, cdm.id);
    });
  });

  describe('a ULID, as before', () => {
    const cases: Array<[string, PipelineMessage]> = [
      ['no mark (an inject, HTTP in)', { payload: { shp_no: 'A' } }],
      ['a mark of another kind', { payload: { shp_no: 'A' }, tectonic: { entry: 'http', topic: 'a/b' } }],
      ['a mark without a topic', { payload: { shp_no: 'A' }, tectonic: { entry: 'records' } }],
    ];
    for (const [name, msg] of cases) {
      it(name, () => {
        const a = idOf(plain, structuredClone(msg));
        const b = idOf(plain, structuredClone(msg));
        assert.match(a, ULID);
        assert.notEqual(a, b);
      });
    }
  });
});
