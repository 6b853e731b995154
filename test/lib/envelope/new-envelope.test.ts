// envelopeFrom: the envelope cdm-map makes, carrying on the correlation and trace of the message it maps.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { checkEnvelope } from '../../../lib/envelope/envelope';
import { correlation, envelopeFrom, newEnvelope } from '../../../lib/envelope/new-envelope';
import type { PipelineMessage } from '../../../lib/envelope/pipeline-message';

const origin = { entity: 'shipment', version: '1.1.0', site: 'site-a', source: 'urn:tectonic:site-a:wms', now: () => Date.UTC(2026, 10, 24, 7, 0, 1, 250) };
const tpA = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const tpB = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
const OWN = Symbol('the record’s own id');

describe('envelopeFrom: correlation and trace carried on', () => {
  const cases: Array<{ name: string; msg: PipelineMessage; correlationId: string | typeof OWN; traceparent?: string }> = [
    { name: 'nothing given: the record is its own correlation', msg: { payload: {} }, correlationId: OWN },
    { name: 'msg.correlationId', msg: { payload: {}, correlationId: 'c-msg' }, correlationId: 'c-msg' },
    { name: 'an earlier envelope’s correlationId', msg: { payload: {}, cdm: { correlationId: 'c-cdm' } }, correlationId: 'c-cdm' },
    { name: 'msg.correlationId wins over the envelope’s', msg: { payload: {}, correlationId: 'c-msg', cdm: { correlationId: 'c-cdm' } }, correlationId: 'c-msg' },
    { name: 'an empty msg.correlationId falls back to the envelope’s', msg: { payload: {}, correlationId: '', cdm: { correlationId: 'c-cdm' } }, correlationId: 'c-cdm' },
    { name: 'a 256-character correlation id is carried', msg: { payload: {}, correlationId: 'x'.repeat(256) }, correlationId: 'x'.repeat(256) },
    { name: 'a 257-character one is not', msg: { payload: {}, correlationId: 'x'.repeat(257) }, correlationId: OWN },
    { name: 'a number is not a correlation id', msg: { payload: {}, correlationId: 42, cdm: { correlationId: 7 } }, correlationId: OWN },
    { name: 'msg.cdm a string carries nothing', msg: { payload: {}, cdm: 'c-text' }, correlationId: OWN },
    { name: 'msg.traceparent', msg: { payload: {}, traceparent: tpA }, correlationId: OWN, traceparent: tpA },
    { name: 'an earlier envelope’s traceparent', msg: { payload: {}, cdm: { traceparent: tpB } }, correlationId: OWN, traceparent: tpB },
    { name: 'msg.traceparent wins over the envelope’s', msg: { payload: {}, traceparent: tpA, cdm: { traceparent: tpB } }, correlationId: OWN, traceparent: tpA },
    { name: 'an invalid msg.traceparent falls back to the envelope’s', msg: { payload: {}, traceparent: 'not-a-trace', cdm: { traceparent: tpB } }, correlationId: OWN, traceparent: tpB },
    { name: 'an upper-case traceparent is not valid', msg: { payload: {}, traceparent: tpA.toUpperCase() }, correlationId: OWN },
  ];
  for (const { name, msg, correlationId, traceparent } of cases) {
    it(name, () => {
      const envelope = envelopeFrom(origin, msg);
      assert.equal(envelope.correlationId, correlationId === OWN ? envelope.id : correlationId);
      assert.equal(envelope.traceparent, traceparent);
      assert.equal(checkEnvelope(envelope).ok, true);
    });
  }

  it('carries the origin, a new id and the time from the clock', () => {
    const envelope = envelopeFrom(origin, { payload: {}, cdm: { entity: 'other', id: 'old', site: 'site-b' } });
    assert.deepEqual({ ...envelope, id: undefined, correlationId: undefined }, { entity: 'shipment', version: '1.1.0', site: 'site-a', id: undefined, time: '2026-11-24T07:00:01.250Z', source: 'urn:tectonic:site-a:wms', correlationId: undefined });
    assert.notEqual(envelope.id, 'old');
  });

  it('has the members in the order newEnvelope gives them', () => {
    assert.deepEqual(Object.keys(envelopeFrom(origin, { payload: {}, correlationId: 'c', traceparent: tpA })), ['entity', 'version', 'site', 'id', 'time', 'source', 'correlationId', 'traceparent']);
    assert.deepEqual(Object.keys(newEnvelope({ ...origin, correlationId: 'c', traceparent: tpA })), ['entity', 'version', 'site', 'id', 'time', 'source', 'correlationId', 'traceparent']);
  });

  it('keeps that order for a record that is its own correlation and starts a trace (one shape for traced and untraced records, issue 19)', () => {
    const traced = envelopeFrom(origin, { payload: {}, traceparent: tpA });
    assert.deepEqual(Object.keys(traced), ['entity', 'version', 'site', 'id', 'time', 'source', 'correlationId', 'traceparent']);
    assert.equal(traced.correlationId, traced.id);
    assert.deepEqual(Object.keys(envelopeFrom(origin, { payload: {} })), ['entity', 'version', 'site', 'id', 'time', 'source', 'correlationId']);
  });
});

describe('correlation', () => {
  const cases: Array<[unknown, string | undefined]> = [
    ['c-1', 'c-1'],
    ['', undefined],
    ['y'.repeat(256), 'y'.repeat(256)],
    ['y'.repeat(257), undefined],
    [1, undefined],
    [null, undefined],
    [undefined, undefined],
    [{ id: 'c' }, undefined],
  ];
  for (const [value, expected] of cases) it(`${JSON.stringify(value)?.slice(0, 20) ?? 'undefined'} -> ${expected?.slice(0, 10) ?? 'undefined'}`, () => assert.equal(correlation(value), expected));
});
