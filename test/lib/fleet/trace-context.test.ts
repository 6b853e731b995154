import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { TraceContext, parseTraceSampling } from '../../../lib/fleet/trace-context';

const A = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const B = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
const NEW = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/;

describe('fleet: trace context', () => {
  const continueOnly = new TraceContext(undefined);
  const cases: Array<[string, Record<string, unknown>, string | undefined]> = [
    ['msg.traceparent', { traceparent: A }, A],
    ['an earlier envelope', { cdm: { traceparent: B } }, B],
    ['msg.traceparent wins over the envelope', { traceparent: A, cdm: { traceparent: B } }, A],
    ['HTTP in headers', { headers: { traceparent: A } }, A],
    ['HTTP request headers', { req: { headers: { traceparent: B } } }, B],
    ['MQTT 5 user properties', { userProperties: { traceparent: A } }, A],
    ['an invalid one is not carried', { traceparent: 'junk', headers: { traceparent: A.toUpperCase() } }, undefined],
    ['nothing', {}, undefined],
    ['headers that are not objects', { headers: 'x', req: null, userProperties: 3 }, undefined],
  ];
  for (const [what, msg, expected] of cases) it(`continues from ${what}`, () => assert.equal(continueOnly.forRecord(msg), expected));

  it('starts a sampled one for the share of records the rate says, none for the rest; ids new each time', () => {
    const draws = [0.1, 0.9, 0.3];
    const half = new TraceContext(0.5, () => draws.shift() ?? 0);
    const first = half.forRecord({}) as string;
    assert.equal(half.forRecord({}), undefined, 'a record outside the sampled share starts no trace');
    const third = half.forRecord({}) as string;
    assert.match(first, NEW);
    assert.ok(first.endsWith('-01'), first);
    assert.ok(third.endsWith('-01'), third);
    assert.notEqual(first.slice(3, 35), third.slice(3, 35));
    assert.equal(new TraceContext(0).forRecord({}), undefined, 'a rate of 0 starts none');
    assert.equal(new TraceContext(0).forRecord({ traceparent: A }), A, 'a rate of 0 still continues one');
    const many = new Set(Array.from({ length: 600 }, () => new TraceContext(1).start(true)));
    assert.equal(many.size, 600, 'no repeats across pool refills');
  });

  it('a started trace never overrides one the record came with', () => assert.equal(new TraceContext(1).forRecord({ traceparent: B }), B));

  const settings: Array<[unknown, ReturnType<typeof parseTraceSampling>]> = [
    ['', { ok: true, value: undefined }],
    [undefined, { ok: true, value: undefined }],
    ['0', { ok: true, value: 0 }],
    [' 0.25 ', { ok: true, value: 0.25 }],
    [1, { ok: true, value: 1 }],
  ];
  for (const [raw, expected] of settings) it(`sampling setting ${JSON.stringify(raw)}`, () => assert.deepEqual(parseTraceSampling(raw), expected));
  for (const raw of ['1.5', '-0.1', 'often', 'NaN']) it(`refuses sampling ${raw}`, () => assert.equal(parseTraceSampling(raw).ok, false));
});
