// Transient and final refusals (docs/message-contract.md): each place in lib
// that refuses a record for the site's state (no catalog yet, no policy in
// force, the outbox full, closing or unable to write) marks msg.reject
// transient; a refusal for the record's own content leaves no mark.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import { refuseForNoCatalog, refuseValidation } from '../../lib/catalog/validate-message';
import type { PipelineMessage } from '../../lib/envelope/pipeline-message';
import { DurableOutbox, type OutboxMessage } from '../../lib/outbox/durable-outbox';
import { judgeMessage, refuseUnjudged } from '../../lib/policy/gate';
import { PolicyState } from '../../lib/policy/policy-state';
import { reason } from '../../lib/reasons';
import { tempDir } from '../support/node-red-process';
import { HASH_KEY, document, keys, shipment, shipmentCdm, signed } from './policy/policy-fixtures';

/** What a flow reads to decide: the stage, the first rule, and the mark (undefined when there is none). */
function verdictOf(msg: PipelineMessage): [string | undefined, string | undefined, unknown] {
  return [msg.reject?.stage, msg.reject?.reasons[0]?.rule, msg.reject === undefined ? 'passed' : Object.hasOwn(msg.reject, 'transient') ? msg.reject.transient : undefined];
}

describe('transient refusals: cdm-validate', () => {
  const cases: Array<[string, (msg: PipelineMessage) => void, [string, string, unknown]]> = [
    ['no catalog yet: transient', (msg) => refuseForNoCatalog(msg, { kind: 'waiting' }), ['cdm-validate', 'no-catalog', true]],
    [
      'no catalog, the last one offered refused: still transient',
      (msg) => refuseForNoCatalog(msg, { kind: 'waiting', issue: { kind: 'refused', origin: 'folder x', reasons: [reason('', 'json', 'does not parse')], at: new Date(0) } }),
      ['cdm-validate', 'no-catalog', true],
    ],
    ['the record is invalid: final, no mark', (msg) => refuseValidation(msg, [reason('payload.weightKg', 'minimum', 'must be >= 0')]), ['cdm-validate', 'minimum', undefined]],
  ];
  for (const [name, refuse, expected] of cases) {
    it(name, () => {
      const msg: PipelineMessage = { payload: {}, cdm: { ...shipmentCdm } };
      refuse(msg);
      assert.deepEqual(verdictOf(msg), expected);
    });
  }
});

describe('transient refusals: policy-gate', () => {
  let now = new Date('2026-11-25T12:00:00Z');
  const state = (): PolicyState => new PolicyState({ trustedKeys: [keys().publicKeyPem], site: 'site-a', now: () => now, hashKey: HASH_KEY });
  const rules = [{ allow: { entities: { shipment: '>=1.0.0 <2.0.0' } } }, { deny: { entity: 'shipment', when: 'payload.weightKg > 1000.0', reason: 'implausible weight' } }];
  const inForce = (): PolicyState => {
    const s = state();
    const offer = s.offer(signed(document(rules)));
    if (!offer.ok) throw new Error(offer.reason.message);
    return s;
  };
  const cases: Array<[string, () => PolicyState, unknown, [string | undefined, string | undefined, unknown]]> = [
    ['a bundle in force passes a good record', inForce, shipment, [undefined, undefined, 'passed']],
    ['a rule denies the record: final', inForce, { ...shipment, weightKg: 5000 }, ['policy-gate', undefined, undefined]],
    ['no bundle loaded yet: transient', state, shipment, ['policy-gate', 'policy-unavailable', true]],
    [
      'the bundle in force has expired: transient',
      () => {
        const s = inForce();
        now = new Date('2027-01-01T00:00:00Z');
        return s;
      },
      shipment,
      ['policy-gate', 'policy-expired', true],
    ],
    [
      'a bundle refused (not a signed bundle): transient, whatever was in force',
      () => {
        const s = inForce();
        s.offer('{"not":"a bundle"}');
        return s;
      },
      shipment,
      ['policy-gate', undefined, true],
    ],
  ];
  for (const [name, make, payload, expected] of cases) {
    it(name, () => {
      now = new Date('2026-11-25T12:00:00Z');
      const policy = make();
      const msg: PipelineMessage = { payload: structuredClone(payload), cdm: { ...shipmentCdm } };
      judgeMessage(policy, msg, { tls: true });
      const [stage, rule, mark] = verdictOf(msg);
      assert.deepEqual([stage, expected[1] === undefined ? undefined : rule, mark], expected);
    });
  }

  it('a gate with no usable policy config refuses for good: a redeploy fixes it, not waiting', () => {
    const msg: PipelineMessage = { payload: {}, cdm: {} };
    refuseUnjudged(msg, 'no tectonic-policy configured');
    assert.deepEqual(verdictOf(msg), ['policy-gate', 'policy-unavailable', undefined]);
  });
});

describe('transient refusals: the outbox', () => {
  const scratch: Array<{ remove(): Promise<void> }> = [];
  after(() => Promise.all(scratch.map((s) => s.remove())));
  const message = (bytes: number): OutboxMessage => ({ topic: 'cdm/shipment/v1/site-a', payload: Buffer.alloc(bytes, 1), qos: 1, key: 'site-a' });

  const cases: Array<[string, (outbox: DurableOutbox) => Promise<unknown>, string, boolean]> = [
    ['a message larger than the whole outbox: final', (o) => o.append(message(4096)), 'outbox-message-too-large', false],
    [
      'the outbox is full: transient',
      async (o) => {
        await o.append(message(10));
        await o.append(message(10));
        return o.append(message(10));
      },
      'outbox-full',
      true,
    ],
    [
      'the outbox is closing (a redeploy): transient',
      async (o) => {
        await o.close();
        return o.append(message(10));
      },
      'outbox-closed',
      true,
    ],
  ];
  for (const [name, act, rule, transient] of cases) {
    it(name, async () => {
      const dir = await tempDir('tectonic-transient-');
      scratch.push(dir);
      const outbox = await DurableOutbox.open({ dir: dir.path, maxCount: 2, maxBytes: 1024, whenFull: 'reject' });
      try {
        const result = (await act(outbox)) as { ok: boolean; reason?: { rule: string }; transient?: boolean };
        assert.deepEqual([result.ok, result.reason?.rule, result.transient], [false, rule, transient]);
      } finally {
        await outbox.close();
      }
    });
  }
});
