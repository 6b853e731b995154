import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { CounterStore, MAX_RULES, NodeCounters } from '../../../lib/metrics/counters';

describe('metrics: the one store of counters', () => {
  it('sums stages over nodes, rejects by rule; a node that handles no records has no stage', () => {
    const store = new CounterStore();
    const a = new NodeCounters('a', 'cdm-map', 'map');
    const b = new NodeCounters('b', 'cdm-map', 'map');
    const bus = new NodeCounters('bus', 'tectonic-bus', '', { levels: () => ({ connected: 1 }) });
    for (const c of [a, b, bus]) store.add(c);
    a.in += 3;
    a.out += 2;
    a.reject('required');
    b.in += 1;
    b.reject('required');
    b.reject(undefined);
    bus.count('connects');
    assert.deepEqual(store.byStage(), { map: { in: 4, out: 2, rejected: { required: 2, unknown: 1 } } });
    assert.deepEqual(bus.snapshot(), { connects: 1, connected: 1 });
    assert.deepEqual(a.snapshot(), { in: 3, out: 2, rejected: 1, 'rejected.required': 1 });
    assert.equal(store.level('connected'), 1);
  });

  it('rules past the cap count as other, so label sets stay bounded', () => {
    const c = new NodeCounters('n', 'cdm-validate', 'validate');
    for (let i = 0; i < MAX_RULES + 10; i += 1) c.reject(`rule-${i}`);
    assert.equal(c.rejectedBy.size, MAX_RULES + 1);
    assert.equal(c.rejectedBy.get('other'), 10);
    assert.equal(c.rejected, MAX_RULES + 10);
  });

  it('a node whose counts live elsewhere is brought up to date before each read', () => {
    const source = { received: 5, dupes: 2 };
    const store = new CounterStore();
    store.add(new NodeCounters('s', 'bus-subscribe', 'subscribe', { sync: (c) => { c.in = source.received + source.dupes; c.out = source.received; c.setRejected('duplicate', source.dupes); } }));
    assert.deepEqual(store.byStage().subscribe, { in: 7, out: 5, rejected: { duplicate: 2 } });
    source.dupes = 4;
    assert.deepEqual(store.get('s')?.snapshot(), { in: 9, out: 5, rejected: 4, 'rejected.duplicate': 4 });
  });

  it('removing takes out only the counters added, not a successor with the same id', () => {
    const store = new CounterStore();
    const first = new NodeCounters('x', 'cdm-map', 'map');
    const removeFirst = store.add(first);
    const second = new NodeCounters('x', 'cdm-map', 'map');
    store.add(second);
    removeFirst();
    assert.equal(store.get('x'), second);
  });
});
