// assembleOutboxMessage: a record's CloudEvent on its canonical topic, or its
// dead letter on the site's dead-letter topic; a record that cannot be
// published is a problem in the catch node's words, with msg.reject.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { PublishSettings } from '../../../lib/bus/publish-settings';
import type { CdmEnvelope } from '../../../lib/envelope/envelope';
import { type PublishRecord, assembleOutboxMessage } from '../../../lib/outbox/outbox-message';

const cdm: CdmEnvelope = { entity: 'shipment', version: '1.2.0', site: 'site-a', id: '01JDTEST000001', time: '2026-11-24T07:00:01.250Z', source: 'urn:tectonic:site-a:erp' };
const canonical: Pick<PublishSettings, 'mode' | 'site' | 'qos' | 'wireMode'> = { mode: 'canonical', site: '', qos: 1, wireMode: 'structured' };
const deadLetters: typeof canonical = { mode: 'dead-letter', site: 'fra', qos: 2, wireMode: 'structured' };
const reasons = [{ path: 'status', rule: 'enum', message: 'unknown' }];

describe('lib/outbox/outbox-message', () => {
  it('canonical: the event on cdm/{entity}/v{major}/{site}, keyed by site', () => {
    const assembled = assembleOutboxMessage({ cdm, payload: { a: 1 } }, canonical, 'bus-publish');
    assert.ok(assembled.ok);
    const { payload, ...rest } = assembled.message;
    assert.deepEqual(rest, { topic: 'cdm/shipment/v1/site-a', qos: 1, properties: { contentType: 'application/cloudevents+json' }, key: 'site-a' });
    assert.deepEqual((JSON.parse(String(payload)) as { data: unknown }).data, { a: 1 });
  });

  it('canonical, binary: the attributes as user properties, the data as the payload', () => {
    const assembled = assembleOutboxMessage({ cdm, payload: { a: 1 } }, { ...canonical, wireMode: 'binary' }, 'bus-publish');
    assert.ok(assembled.ok);
    assert.deepEqual(JSON.parse(String(assembled.message.payload)), { a: 1 });
    assert.equal(assembled.message.properties?.userProperties?.id, cdm.id);
  });

  it('dead-letter: msg.reject on tectonic/dlq/{site}/{stage}, as JSON, keyed by the site', () => {
    const assembled = assembleOutboxMessage({ cdm, payload: { a: 1 }, reject: { stage: 'cdm-validate', reasons } }, deadLetters, 'bus-publish');
    assert.ok(assembled.ok);
    assert.equal(assembled.message.topic, 'tectonic/dlq/fra/cdm-validate');
    assert.deepEqual(assembled.message.properties, { contentType: 'application/json' });
    assert.equal(assembled.message.key, 'fra');
    assert.equal(assembled.message.qos, 2);
  });

  const refused: Array<[string, PublishRecord, typeof canonical, RegExp, boolean]> = [
    ['no msg.cdm', { payload: 1 }, canonical, /^msg\.cdm is not a usable envelope \(set it with cdm-map\): /, true],
    ['an envelope without an id', { cdm: { ...cdm, id: undefined }, payload: 1 }, canonical, /^msg\.cdm is not a usable envelope \(set it with cdm-map\): cdm\.id/, true],
    ['a payload that cannot be JSON', { cdm, payload: 10n }, canonical, /^the record cannot be published: .*cannot be written as JSON/, true],
    ['dead-letter mode without msg.reject', { cdm, payload: 1 }, deadLetters, /^not a dead letter: /, false],
  ];
  for (const [name, msg, settings, problem, rejects] of refused) {
    it(`refused: ${name}`, () => {
      const assembled = assembleOutboxMessage(msg, settings, 'bus-publish');
      assert.equal(assembled.ok, false);
      assert.match(assembled.ok ? '' : assembled.problem, problem);
      if (rejects) assert.equal((msg.reject as { stage: string }).stage, 'bus-publish');
      else assert.equal(msg.reject, undefined);
    });
  }
});
