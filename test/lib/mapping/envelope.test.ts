import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { checkEnvelope } from '../../../lib/envelope/envelope';
import { newEnvelope } from '../../../lib/mapping/index';

const CROCKFORD_ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('newEnvelope', () => {
  it('carries the given attributes, a ULID and the time in UTC', () => {
    const at = Date.UTC(2026, 10, 24, 7, 0, 1, 250);
    const envelope = newEnvelope({ entity: 'shipment', version: '1.1.0', site: 'site-a', source: 'urn:tectonic:site-a:wms', now: () => at });
    assert.deepEqual(Object.keys(envelope), ['entity', 'version', 'site', 'id', 'time', 'source']);
    assert.equal(envelope.time, '2026-11-24T07:00:01.250Z');
    assert.match(envelope.id, CROCKFORD_ULID);
    assert.deepEqual(checkEnvelope(envelope), { ok: true, value: envelope });
  });

  it('passes correlation id and traceparent through', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const envelope = newEnvelope({ entity: 'shipment', version: '1.1.0', site: 'site-a', source: 's', correlationId: 'c-1', traceparent });
    assert.equal(envelope.correlationId, 'c-1');
    assert.equal(envelope.traceparent, traceparent);
  });

  it('ids made in the same millisecond still sort in the order they were made', () => {
    const at = Date.UTC(2026, 10, 24);
    const ids = Array.from({ length: 1000 }, () => newEnvelope({ entity: 'e', version: '1.0.0', site: 's', source: 's', now: () => at }).id);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, 1000);
    const later = newEnvelope({ entity: 'e', version: '1.0.0', site: 's', source: 's', now: () => at + 1 }).id;
    assert.ok(later > (ids[999] as string));
  });
});
