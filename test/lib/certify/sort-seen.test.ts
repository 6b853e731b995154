// What certify counts from the bus: a record or dead letter the bus delivered
// twice (at least once: a resend after a slow PUBACK or a reconnect) is one.
import { strict as assert } from 'node:assert';
import { sortSeen } from '../../../lib/certify/checks';
import { encodeMessage } from '../../../lib/envelope/cloudevents';
import { newEnvelope } from '../../../lib/envelope/new-envelope';
import type { Seen } from '../../../lib/certify/private-bus';

const seen = (topic: string, payload: string | Buffer, at: number): Seen => ({ topic, payload: Buffer.from(payload), retain: false, at });

function record(shipmentId: string): Buffer {
  const envelope = newEnvelope({ entity: 'shipment', version: '1.0.0', site: 'site-a', source: 'urn:test' });
  const encoded = encodeMessage(envelope, { shipmentId }, 'structured');
  if (!encoded.ok) throw new Error('encoding the test record');
  return Buffer.from(encoded.value.payload);
}

describe('certify: what reached the bus', () => {
  it('a record delivered twice counts once; two records with the same data but their own ids count twice', () => {
    const a = record('S-1');
    const b = record('S-1');
    const sorted = sortSeen([seen('cdm/shipment/1/site-a', a, 1), seen('cdm/shipment/1/site-a', a, 2), seen('cdm/shipment/1/site-a', b, 3)]);
    assert.equal(sorted.outputs.length, 2);
  });

  it('a dead letter delivered twice counts once; two letters for two records count twice', () => {
    const letter = (id: string): string => JSON.stringify({ stage: 'cdm-validate', site: 'site-a', time: '2026-12-08T00:00:00.000Z', reasons: [{ path: 'status', rule: 'required', message: 'is missing' }], payload: { id } });
    const sorted = sortSeen([seen('tectonic/dlq/site-a', letter('1'), 1), seen('tectonic/dlq/site-a', letter('1'), 2), seen('tectonic/dlq/site-a', letter('2'), 3)]);
    assert.equal(sorted.letters.length, 2);
    assert.deepEqual(sorted.letters.map((l) => l.stage), ['cdm-validate', 'cdm-validate']);
  });

  it('the same record refused again later (its letter has a later time, the same envelope id) counts once', () => {
    const letter = (time: string, id: string): string => JSON.stringify({ stage: 'cdm-validate', site: 'site-a', time, reasons: [{ path: 'status', rule: 'required', message: 'is missing' }], payload: {}, cdm: { id } });
    const sorted = sortSeen([
      seen('tectonic/dlq/site-a', letter('2026-12-08T00:00:00.000Z', 'id-1'), 1),
      seen('tectonic/dlq/site-a', letter('2026-12-08T00:00:01.000Z', 'id-1'), 2),
      seen('tectonic/dlq/site-a', letter('2026-12-08T00:00:01.000Z', 'id-2'), 3),
    ]);
    assert.equal(sorted.letters.length, 2);
  });

  it('only what arrived since the mark counts', () => {
    const sorted = sortSeen([seen('cdm/shipment/1/site-a', record('S-1'), 1), seen('cdm/shipment/1/site-a', record('S-2'), 5)], 5);
    assert.equal(sorted.outputs.length, 1);
  });
});
