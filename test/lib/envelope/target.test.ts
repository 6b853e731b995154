// resolveTarget: which entity@version a message is validated as, its envelope against the node's settings.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { type EnvelopeTarget, resolveTarget } from '../../../lib/envelope/target';

const ok = (entity: string, version: string): EnvelopeTarget => ({ ok: true, entity, version });
const refused = (...reasons: Array<[string, string, string]>): EnvelopeTarget => ({ ok: false, reasons: reasons.map(([path, rule, message]) => ({ path, rule, message })) });

describe('resolveTarget', () => {
  const cases: Array<[string, unknown, string, string, EnvelopeTarget]> = [
    ['the envelope names both', { entity: 'shipment', version: '1.1.0' }, '', '', ok('shipment', '1.1.0')],
    ['the node fixes both, no envelope', undefined, 'shipment', '1.1.0', ok('shipment', '1.1.0')],
    ['the node fixes both, msg.cdm null', null, 'shipment', '1.1.0', ok('shipment', '1.1.0')],
    ['the node fixes the version, the envelope names the entity', { entity: 'shipment' }, '', '2.0.0', ok('shipment', '2.0.0')],
    ['a fixed value agreeing with the envelope', { entity: 'shipment', version: '1.1.0' }, 'shipment', '1.1.0', ok('shipment', '1.1.0')],
    ['an empty envelope member counts as none', { entity: '', version: '1.1.0' }, 'shipment', '', ok('shipment', '1.1.0')],
    ['msg.cdm a string', 'shipment@1.1.0', '', '', refused(['cdm', 'invalid-envelope', 'msg.cdm must be an object with entity and version'])],
    ['msg.cdm an array, even with settings', [], 'shipment', '1.1.0', refused(['cdm', 'invalid-envelope', 'msg.cdm must be an object with entity and version'])],
    [
      'no envelope, nothing fixed',
      undefined,
      '',
      '',
      refused(['cdm.entity', 'required', 'the message has no msg.cdm and the node sets no fixed entity'], ['cdm.version', 'required', 'the message has no msg.cdm and the node sets no fixed version']),
    ],
    ['an envelope without a version', { entity: 'shipment' }, '', '', refused(['cdm.version', 'required', 'msg.cdm has no version and the node sets no fixed version'])],
    ['an entity that is not a string', { entity: 7, version: '1.1.0' }, '', '', refused(['cdm.entity', 'type', 'msg.cdm.entity must be a string, got number'])],
    ['a type error even when the node fixes it', { entity: 'shipment', version: 1 }, '', '1.1.0', refused(['cdm.version', 'type', 'msg.cdm.version must be a string, got number'])],
    ['an envelope naming another entity than the node', { entity: 'lab-result', version: '1.1.0' }, 'shipment', '', refused(['cdm.entity', 'envelope-mismatch', 'msg.cdm.entity is "lab-result" but this node validates entity "shipment"'])],
  ];
  for (const [name, cdm, entity, version, expected] of cases) it(name, () => assert.deepEqual(resolveTarget(cdm, entity, version), expected));

  it('leaves the fixed values out as empty', () => assert.deepEqual(resolveTarget({ entity: 'a', version: '1.0.0' }), ok('a', '1.0.0')));
});
