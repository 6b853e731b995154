// applyMapping: a mapping's result put on the message cdm-map routes.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { PipelineMessage } from '../../../lib/envelope/pipeline-message';
import { applyMapping } from '../../../lib/mapping/map-message';

const origin = { entity: 'shipment', version: '1.0.0', site: 'site-a', source: 'urn:tectonic:site-a:node-red', now: () => Date.UTC(2026, 10, 24) };

describe('applyMapping', () => {
  it('a mapped record gets a new envelope that carries on the correlation', () => {
    const msg: PipelineMessage = { payload: { shp_no: 'S-1' }, topic: 'site/fra', correlationId: 'order-7', cdm: { entity: 'old', validated: 'old@1.0.0' } };
    assert.equal(applyMapping(msg, { ok: true, value: { shipmentId: 'S-1' } }, origin), true);
    assert.deepEqual(msg.payload, { shipmentId: 'S-1' });
    assert.equal(msg.topic, 'site/fra');
    const cdm = msg.cdm as Record<string, unknown>;
    assert.deepEqual({ ...cdm, id: 'ID' }, { entity: 'shipment', version: '1.0.0', site: 'site-a', id: 'ID', time: '2026-11-24T00:00:00.000Z', source: 'urn:tectonic:site-a:node-red', correlationId: 'order-7' });
    assert.equal(msg.reject, undefined);
  });

  it('a record that does not map keeps its payload and envelope and gets the reasons', () => {
    const reasons = [{ path: 'status', rule: 'lookup', message: 'from "stat": unknown code "XYZ"' }];
    const cdm = { entity: 'old' };
    const msg: PipelineMessage = { payload: { stat: 'XYZ' }, cdm };
    assert.equal(applyMapping(msg, { ok: false, reasons }, origin), false);
    assert.deepEqual(msg, { payload: { stat: 'XYZ' }, cdm, reject: { stage: 'cdm-map', reasons } });
    assert.equal(msg.cdm, cdm);
  });
});
