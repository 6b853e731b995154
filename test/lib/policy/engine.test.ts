// The engine, one table per rule kind: input record and envelope, expected
// verdict. Rules are scoped by entity and site; a condition that cannot be
// evaluated rejects.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import { compilePolicy } from '../../../lib/policy/engine';
import type { PolicyInput, PolicyVerdict } from '../../../lib/policy/engine';
import type { Reason } from '../../../lib/reasons';
import { bundle, clock, compiled, HASH_KEY, labCdm, labResult, shipment, shipmentCdm } from './policy-fixtures';

interface Case {
  name: string;
  rules: unknown[];
  input: Partial<PolicyInput>;
  site?: string;
  /** Expected (rule, path) of each reason; empty for a pass. */
  reasons: [string, string][];
  /** Expected payload of the verdict, when the case is about it. */
  payload?: unknown;
  /** Part of a reason's message. */
  message?: RegExp;
}

const tls = { tls: true };

function run(c: Case): PolicyVerdict {
  const policy = compiled(c.rules, c.site ? { site: c.site } : {});
  return policy.evaluate({ payload: shipment, cdm: shipmentCdm, transport: tls, ...c.input });
}

function table(kind: string, cases: Case[]): void {
  describe(`rule kind: ${kind}`, () => {
    for (const c of cases) {
      it(c.name, () => {
        const verdict = run(c);
        const got = verdict.pass ? [] : verdict.reasons.map((r: Reason) => [r.rule, r.path]);
        assert.deepEqual(got, c.reasons, JSON.stringify(verdict));
        if (c.payload !== undefined) assert.deepEqual(verdict.payload, c.payload);
        if (c.message && !verdict.pass) assert.match(verdict.reasons.map((r) => r.message).join(' | '), c.message);
      });
    }
  });
}

table('maxBytes', [
  { name: 'under the limit passes', rules: [{ maxBytes: 1000 }], input: {}, reasons: [] },
  { name: 'over the limit rejects, naming the rule', rules: [{ maxBytes: 50 }], input: {}, reasons: [['rules[0].maxBytes', 'payload']], message: /the record is \d+ bytes; at most 50/ },
  { name: 'exactly at the limit passes', rules: [{ maxBytes: Buffer.byteLength(JSON.stringify(shipment)) }], input: {}, reasons: [] },
  { name: 'multi-byte characters count as UTF-8 bytes', rules: [{ maxBytes: 14 }], input: { payload: { s: 'ééééé' } }, reasons: [['rules[0].maxBytes', 'payload']] },
  { name: 'a size the caller measured is used', rules: [{ maxBytes: 1000 }], input: { bytes: 5000 }, reasons: [['rules[0].maxBytes', 'payload']] },
  { name: 'after a mask, the masked record is measured', rules: [{ mask: { paths: ['blob'], method: 'drop' } }, { maxBytes: 20 }], input: { payload: { blob: 'x'.repeat(500) }, bytes: 600 }, reasons: [] },
  { name: 'before a mask, the unmasked record is measured', rules: [{ maxBytes: 20 }, { mask: { paths: ['blob'], method: 'drop' } }], input: { payload: { blob: 'x'.repeat(500) } }, reasons: [['rules[0].maxBytes', 'payload']] },
  { name: 'scoped with the object form', rules: [{ maxBytes: { limit: 10, entity: 'lab-result' } }], input: {}, reasons: [] },
]);

table('validation', [
  { name: 'validated as its own entity@version passes', rules: [{ validation: 'required' }], input: {}, reasons: [] },
  { name: 'not validated rejects', rules: [{ validation: 'required' }], input: { cdm: { ...shipmentCdm, validated: undefined } }, reasons: [['rules[0].validation', 'cdm.validated']] },
  { name: 'validated as another version rejects', rules: [{ validation: 'required' }], input: { cdm: { ...shipmentCdm, validated: 'shipment@1.0.0' } }, reasons: [['rules[0].validation', 'cdm.validated']], message: /validated as "shipment@1.0.0", not as shipment@1.1.0/ },
  { name: 'validated as another entity rejects', rules: [{ validation: { required: true } }], input: { cdm: { ...shipmentCdm, validated: 'lab-result@1.1.0' } }, reasons: [['rules[0].validation', 'cdm.validated']] },
]);

table('transport', [
  { name: 'TLS passes', rules: [{ transport: { tls: 'required' } }], input: {}, reasons: [] },
  { name: 'plain MQTT rejects', rules: [{ transport: { tls: 'required' } }], input: { transport: { tls: false } }, reasons: [['rules[0].transport', 'transport.tls']] },
  { name: 'an unknown transport rejects (fail closed)', rules: [{ transport: { tls: 'required' } }], input: { transport: undefined }, reasons: [['rules[0].transport', 'transport.tls']] },
]);

table('mask', [
  {
    // The hashes are openssl's: printf '%s' 'Ada Lovelace' | openssl dgst -sha256 -hmac site-secret-for-tests -binary | base64url
    name: 'hash, partial and drop on a lab result; the other members stay',
    rules: [
      { mask: { entity: 'lab-result', paths: ['patient.name', 'patient.ids[*].value'], method: 'hash' } },
      { mask: { paths: ['reportedBy'], method: 'partial', keep: 7 } },
      { mask: { paths: ['patient.birthDate'], method: 'drop' } },
      { mask: { paths: ['flag'], method: 'redact', replacement: '-' } },
    ],
    site: 'clinic-3',
    input: { payload: labResult, cdm: labCdm },
    reasons: [],
    payload: {
      ...labResult,
      patient: {
        name: 'hmac:qVXsGVqEGY05xjQvIouAHIo2li3zbbA2CNyb9ysNyro',
        ids: [
          { system: 'mrn', value: 'hmac:qJCDieaJZEHumY_I-ZF3GSL6KnLYwRetZfsDq5_P-vM' },
          { system: 'insurance', value: 'hmac:75MykCWywt3vLkVMYxoLWW0u4tG6qfGS0JDaumVlScI' },
        ],
      },
      reportedBy: '***********example',
      flag: '-',
    },
  },
  { name: 'partial keepAfter keeps the domain of an e-mail (issue 18)', rules: [{ mask: { paths: ['contact.email'], method: 'partial', keepAfter: '@' } }], input: { payload: { ...shipment, contact: { email: 'jane.doe@example.com' } } }, reasons: [], payload: { ...shipment, contact: { email: '***@example.com' } } },
  { name: 'a mask scoped to another entity does not apply', rules: [{ mask: { entity: 'lab-result', paths: ['shipmentId'], method: 'redact' } }], input: {}, reasons: [], payload: shipment },
  { name: 'a mask scoped to this entity applies', rules: [{ mask: { entity: ['lab-result', 'shipment'], paths: ['shipmentId'], method: 'redact' } }], input: {}, reasons: [], payload: { ...shipment, shipmentId: '[REDACTED]' } },
  { name: 'scope beside the kind works too', rules: [{ mask: { paths: ['shipmentId'], method: 'redact' }, site: 'site-b' }], input: {}, reasons: [], payload: shipment },
  { name: 'a mask over a missing member passes unchanged', rules: [{ mask: { paths: ['customerEmail'], method: 'partial' } }], input: {}, reasons: [], payload: shipment },
  { name: 'masks apply to a rejected record too', rules: [{ mask: { paths: ['shipmentId'], method: 'redact' } }, { maxBytes: 1 }], input: {}, reasons: [['rules[1].maxBytes', 'payload']], payload: { ...shipment, shipmentId: '[REDACTED]' } },
]);

table('deny', [
  { name: 'a false condition passes', rules: [{ deny: { when: 'payload.weightKg > 1000.0', reason: 'implausible weight' } }], input: {}, reasons: [] },
  { name: 'a true condition rejects with the rule and its reason', rules: [{ deny: { when: 'payload.weightKg > 1000.0', reason: 'implausible weight' } }], input: { payload: { ...shipment, weightKg: 5000 } }, reasons: [['rules[0].deny', '']], message: /^implausible weight$/ },
  { name: 'a missing field rejects rather than passes', rules: [{ deny: { when: 'payload.weightKg > 1000.0', reason: 'implausible weight' } }], input: { payload: { shipmentId: 'S' } }, reasons: [['rules[0].deny', '']], message: /implausible weight: the condition could not be evaluated \(No such key: weightKg\)/ },
  { name: 'a type error rejects', rules: [{ deny: { when: 'payload.weightKg > 1000.0', reason: 'w' } }], input: { payload: { weightKg: 'heavy' } }, reasons: [['rules[0].deny', '']], message: /could not be evaluated/ },
  { name: 'conditions see the envelope and the size', rules: [{ deny: { when: 'cdm.site == "site-a" && byteSize > 10', reason: 'too chatty' } }], input: {}, reasons: [['rules[0].deny', '']] },
  { name: 'scoped to another entity: not evaluated', rules: [{ deny: { entity: 'lab-result', when: 'payload.patient.name != ""', reason: 'x' } }], input: {}, reasons: [] },
  { name: 'byteSize after a mask is the masked record\'s size', rules: [{ mask: { paths: ['blob'], method: 'drop' } }, { deny: { when: 'byteSize > 100', reason: 'too big' } }], input: { payload: { blob: 'x'.repeat(500) } }, reasons: [] },
  { name: 'byteSize before a mask is the original size', rules: [{ deny: { when: 'byteSize > 100', reason: 'too big' } }, { mask: { paths: ['blob'], method: 'drop' } }], input: { payload: { blob: 'x'.repeat(500) } }, reasons: [['rules[0].deny', '']] },
  { name: 'conditions see earlier masks', rules: [{ mask: { paths: ['shipmentId'], method: 'redact' } }, { deny: { when: 'payload.shipmentId == "SHP-1"', reason: 'saw the original' } }], input: {}, reasons: [] },
]);

table('require', [
  { name: 'a true condition passes', rules: [{ require: { when: 'payload.weightKg >= 0.0', reason: 'weight must not be negative' } }], input: {}, reasons: [] },
  { name: 'a false condition rejects', rules: [{ require: { when: 'payload.weightKg >= 0.0', reason: 'weight must not be negative' } }], input: { payload: { ...shipment, weightKg: -1 } }, reasons: [['rules[0].require', '']], message: /^weight must not be negative$/ },
  { name: 'a missing field rejects', rules: [{ require: { when: 'payload.carrier.scac.size() == 3', reason: 'SCAC needed' } }], input: { payload: { ...shipment, carrier: { name: 'X' } } }, reasons: [['rules[0].require', '']], message: /No such key: scac/ },
  { name: 'has() makes a field optional on purpose', rules: [{ require: { when: '!has(payload.reserved) || payload.reserved <= payload.onHand', reason: 'r' } }], input: { payload: { onHand: 3 } }, reasons: [] },
  { name: 'scoped to a site: applies there only', rules: [{ require: { site: 'site-b', when: 'false', reason: 'never at b' } }], input: {}, reasons: [] },
  { name: 'scoped to this site: applies', rules: [{ require: { site: ['site-a', 'site-b'], when: 'false', reason: 'never' } }], input: {}, reasons: [['rules[0].require', '']] },
]);

table('allow', [
  { name: 'an allowed entity and version passes', rules: [{ allow: { entities: { shipment: '>=1.0.0 <2.0.0' } } }], input: {}, reasons: [] },
  { name: 'a version outside the range rejects', rules: [{ allow: { entities: { shipment: '>=1.0.0 <1.1.0' } } }], input: {}, reasons: [['rules[0].allow', 'cdm.version']], message: /shipment@1.1.0 is not allowed here/ },
  { name: 'an entity not listed rejects', rules: [{ allow: { entities: { 'lab-result': '*' } } }], input: {}, reasons: [['rules[0].allow', 'cdm.entity']] },
  { name: 'a site-scoped allow adds to the general one', rules: [{ allow: { entities: { 'lab-result': '*' } } }, { allow: { site: 'site-a', entities: { shipment: '^1.0.0' } } }], input: {}, reasons: [] },
  { name: 'an allow for another site does not help', rules: [{ allow: { entities: { 'lab-result': '*' } } }, { allow: { site: 'site-b', entities: { shipment: '^1.0.0' } } }], input: {}, reasons: [['rules[0].allow', 'cdm.entity']] },
  { name: 'a version that is not semver rejects', rules: [{ allow: { entities: { shipment: '*' } } }], input: { cdm: { ...shipmentCdm, version: 'latest' } }, reasons: [['rules[0].allow', 'cdm.version']] },
]);

table('envelope', [
  { name: 'no envelope: rejected, every mask still applied', rules: [{ mask: { entity: 'shipment', paths: ['shipmentId'], method: 'redact' } }], input: { cdm: undefined }, reasons: [['policy-envelope', 'cdm.entity']], payload: { ...shipment, shipmentId: '[REDACTED]' } },
  { name: 'a payload with no JSON form is rejected without a payload', rules: [], input: { payload: undefined }, reasons: [['policy-payload', 'payload']] },
]);

describe('the engine as a whole', () => {
  it('the input is never modified', () => {
    const payload = structuredClone(labResult);
    const cdm = structuredClone(labCdm);
    const policy = compiled([{ mask: { paths: ['patient.name'], method: 'hash' } }, { mask: { paths: ['**.value'], method: 'drop' } }], { site: 'clinic-3' });
    const verdict = policy.evaluate({ payload, cdm });
    assert.equal(verdict.pass, true);
    assert.deepEqual(payload, labResult);
    assert.deepEqual(cdm, labCdm);
    assert.notEqual(verdict.payload, payload);
  });

  it('the pass annotates the bundle and the concrete paths masked', () => {
    const verdict = compiled([{ mask: { paths: ['patient.ids[*].value'], method: 'hash' } }], { site: 'clinic-3' }).evaluate({ payload: labResult, cdm: labCdm });
    assert.ok(verdict.pass);
    assert.deepEqual(verdict.annotations, { policy: 'test-policy@3', masked: ['patient.ids[1].value', 'patient.ids[0].value'] });
  });

  it('every failing rule is reported, in rule order', () => {
    const verdict = compiled([{ maxBytes: 1 }, { validation: 'required' }, { deny: { when: 'true', reason: 'no' } }]).evaluate({ payload: shipment, cdm: { ...shipmentCdm, validated: undefined } });
    assert.deepEqual(verdict.pass ? [] : verdict.reasons.map((r) => r.rule), ['rules[0].maxBytes', 'rules[1].validation', 'rules[2].deny']);
  });

  it('a Date in the record is judged as the JSON string it will be sent as', () => {
    const verdict = compiled([{ require: { when: 'payload.at == "1970-01-01T00:00:00.000Z"', reason: 'r' } }]).evaluate({ payload: { at: new Date(0) }, cdm: shipmentCdm });
    assert.deepEqual(verdict, { pass: true, payload: { at: '1970-01-01T00:00:00.000Z' }, annotations: { policy: 'test-policy@3', masked: [] } });
  });

  it('a record too large to run conditions on is rejected', () => {
    const policy = compiled([{ deny: { when: 'false', reason: 'never' } }], { maxConditionInputBytes: 100 });
    const verdict = policy.evaluate({ payload: { blob: 'x'.repeat(200) }, cdm: shipmentCdm });
    assert.equal(verdict.pass, false);
    assert.match(verdict.pass ? '' : (verdict.reasons[0]?.message ?? ''), /too large to evaluate the condition/);
  });

  it('expiry is checked at every evaluation', () => {
    let now = new Date('2026-12-23T23:59:59Z');
    const policy = compiled([], { now: () => now });
    assert.equal(policy.evaluate({ payload: shipment, cdm: shipmentCdm }).pass, true);
    now = new Date('2026-12-24T00:00:00Z');
    assert.deepEqual(policy.evaluate({ payload: shipment, cdm: shipmentCdm }), { pass: false, reasons: [{ path: 'expiresAt', rule: 'policy-expired', message: 'test-policy@3 expired at 2026-12-24T00:00:00Z' }], transient: true });
  });
});

describe('compilePolicy refusals', () => {
  it('a rollback below the last version seen', () => {
    const result = compilePolicy(bundle([]), { now: clock, site: 'site-a', lastSeenVersion: 4 });
    assert.deepEqual(result.ok ? [] : result.reasons.map((r) => r.rule), ['policy-rollback']);
  });

  it('the same version again is not a rollback', () => {
    assert.equal(compilePolicy(bundle([]), { now: clock, site: 'site-a', lastSeenVersion: 3 }).ok, true);
  });

  it('a hash mask without a key at this site', () => {
    const result = compilePolicy(bundle([{ mask: { paths: ['a'], method: 'hash' } }]), { now: clock, site: 'site-a' });
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : (result.reasons[0]?.message ?? ''), /no hash key/);
  });

  it('a hash mask for another site needs no key here', () => {
    assert.equal(compilePolicy(bundle([{ mask: { site: 'clinic-3', paths: ['a'], method: 'hash' } }]), { now: clock, site: 'site-a' }).ok, true);
  });

  it('named hash keys: a rule names its key, others use "default"', () => {
    const rules = [{ mask: { paths: ['a'], method: 'hash', key: 'pii-2026' } }, { mask: { paths: ['b'], method: 'hash' } }];
    const missing = compilePolicy(bundle(rules), { now: clock, site: 'site-a', hashKey: { default: 'd' } });
    assert.match(missing.ok ? '' : (missing.reasons[0]?.message ?? ''), /key "pii-2026"/);
    const ok = compilePolicy(bundle(rules), { now: clock, site: 'site-a', hashKey: { default: 'd', 'pii-2026': Buffer.from('p') } });
    assert.ok(ok.ok);
    const verdict = ok.policy.evaluate({ payload: { a: 'x', b: 'x' }, cdm: shipmentCdm });
    assert.ok(verdict.pass);
    const out = verdict.payload as { a: string; b: string };
    assert.notEqual(out.a, out.b, 'different keys give different hashes of the same value');
  });

  it('the hash key is the engine\'s, not the bundle\'s', () => {
    const a = compiled([{ mask: { paths: ['a'], method: 'hash' } }], { hashKey: HASH_KEY }).evaluate({ payload: { a: 'x' }, cdm: shipmentCdm });
    const b = compiled([{ mask: { paths: ['a'], method: 'hash' } }], { hashKey: 'another site secret' }).evaluate({ payload: { a: 'x' }, cdm: shipmentCdm });
    assert.notDeepEqual(a.payload, b.payload);
  });
});

describe('retry and rate, for bus-publish', () => {
  const rules = [
    { retry: { entity: 'lab-result', maxAttempts: 10, backoffMs: 5000 } },
    { retry: { maxAttempts: 5, backoffMs: 1000 } },
    { rate: { entity: 'shipment', perSecond: 2 } },
    { rate: { site: 'site-b', perSecond: 100 } },
  ];

  it('retryFor: the first rule in scope', () => {
    const policy = compiled(rules);
    assert.deepEqual(policy.retryFor('lab-result'), { maxAttempts: 10, backoffMs: 5000 });
    assert.deepEqual(policy.retryFor('shipment'), { maxAttempts: 5, backoffMs: 1000 });
    assert.equal(compiled([]).retryFor('shipment'), undefined);
  });

  it('rateLimiter: a token bucket on the injected clock, one per rule and site', () => {
    let now = new Date('2026-11-25T12:00:00.000Z');
    const policy = compiled(rules, { now: () => now });
    const bucket = policy.rateLimiter('shipment');
    assert.ok(bucket);
    assert.equal(policy.rateLimiter('shipment'), bucket, 'the same bucket for every caller');
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(), false, 'burst defaults to one second of tokens');
    assert.equal(bucket.waitMs(), 500);
    now = new Date('2026-11-25T12:00:00.500Z');
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(), false);
    assert.equal(policy.rateLimiter('inventory-level'), undefined);
    assert.equal(policy.rateLimiter('inventory-level', 'site-b')?.perSecond, 100);
  });

  it('a clock stepping back adds no tokens', () => {
    let now = new Date('2026-11-25T12:00:10Z');
    const bucket = compiled([{ rate: { perSecond: 1, burst: 1 } }], { now: () => now }).rateLimiter('x');
    assert.ok(bucket);
    assert.equal(bucket.tryTake(), true);
    now = new Date('2026-11-25T12:00:00Z');
    assert.equal(bucket.tryTake(), false);
  });
});

// The engine copies and measures plain data in one walk and leaves everything
// else to JSON.parse(JSON.stringify(...)); both must give exactly what that
// round trip gives: the same copy (members, order, prototypes, -0 as 0), the
// same UTF-8 size, the same error.
describe("the record's JSON form", () => {
  // Every record but a one-digit number is over the limit, and the reason says its size.
  const policy = compiled([{ maxBytes: 1 }]);
  const judge = (payload: unknown): { copy: unknown; bytes: number | undefined; reasons: Reason[] } => {
    const verdict = policy.evaluate({ payload, cdm: shipmentCdm });
    if (verdict.pass) return { copy: verdict.payload, bytes: undefined, reasons: [] };
    const size = /the record is (\d+) bytes/.exec(verdict.reasons[0]?.message ?? '');
    return { copy: verdict.payload, bytes: size ? Number(size[1]) : undefined, reasons: verdict.reasons };
  };
  const expectRoundTrip = (payload: unknown): void => {
    const text = JSON.stringify(payload);
    const got = judge(payload);
    assert.deepStrictEqual(got.copy, JSON.parse(text));
    assert.equal(JSON.stringify(got.copy), text, 'members in the same order');
    if (got.bytes === undefined) assert.ok(text.length <= 1, `${text} passed a 1-byte limit`);
    else assert.equal(got.bytes, Buffer.byteLength(text, 'utf8'));
  };

  class Point {
    constructor(
      public x: number,
      public y: number,
    ) {}
  }
  const withGetter = Object.defineProperty({ a: 1 }, 'b', { get: () => 'got', enumerable: true });
  const hiddenToJson = Object.defineProperty({ a: 1 }, 'toJSON', { value: () => 'hidden', enumerable: false });
  const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: [true, null] });
  const extraOnArray = Object.assign([1, 2], { extra: 'dropped' });
  const sparse: unknown[] = [1];
  sparse[3] = 2;
  const cases: [string, unknown][] = [
    ['a plain record', { shipmentId: 'SHP-1', weightKg: 12.5, carrier: { name: 'DHL' }, tags: ['a', 'b'], ok: true, none: null }],
    ['integer-like keys first', { b: 1, 2: 'two', a: 2, 1: 'one' }],
    ['numbers', { n: [0, -0, 1, -1, 10, 99, 100, 12345678901234, -9007199254740991, 1e21, 1.5e-7, 0.1, 123.456, Number.MAX_VALUE, Number.MIN_VALUE] }],
    ['non-finite numbers become null', { a: Number.NaN, b: [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] }],
    ['undefined, function and symbol members vanish', { a: undefined, b: () => 1, c: Symbol('s'), d: 1 }],
    ['in arrays they become null', [undefined, () => 1, Symbol('s'), 1]],
    ['symbol keys are ignored', { [Symbol('k')]: 1, a: 2 }],
    ['escapes and UTF-8 in strings and keys', { 'q"\\\n\t\b\f\r': '\u0000\u001f\u007f"\\', é: 'é€😀', lone: '\ud800x\udc00', pairEnd: 'x\ud83d' }],
    ['a Date', { at: new Date(0) }],
    ['an own toJSON', { a: { toJSON: () => ({ replaced: true }) } }],
    ['a toJSON that is not a function', { toJSON: 5, a: 1 }],
    ['a non-enumerable toJSON', { inner: hiddenToJson }],
    ['a getter', withGetter],
    ['a class instance', { p: new Point(1, 2) }],
    ['a Map, a Set and a Buffer', { m: new Map([[1, 2]]), s: new Set([1]), b: Buffer.from('hi') }],
    ['boxed primitives', { n: Object(1) as unknown, s: Object('s') as unknown, b: Object(false) as unknown }],
    ['a null-prototype object', { o: nullProto }],
    ['an array with a member of its own', { a: extraOnArray }],
    ['a sparse array', { a: sparse }],
    ['an own "__proto__" member', JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')],
    ['nesting deeper than the walk', JSON.parse(`${'['.repeat(100)}1${']'.repeat(100)}`)],
    ['top-level scalars', 'text'],
    ['top-level null', null],
    ['an empty object and array', { o: {}, a: [] }],
  ];
  for (const [name, payload] of cases) it(name, () => expectRoundTrip(payload));

  it('size limits and byteSize decide on the exact size, whatever bound the walk took, property-based', () => {
    // The engine measures a record exactly only when the bound from its walk is not enough to decide.
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }), fc.integer({ min: -3, max: 3 }), (payload, off) => {
        const exact = Buffer.byteLength(JSON.stringify(payload), 'utf8');
        const limit = Math.max(1, exact + off);
        const verdict = compiled([{ maxBytes: limit }, { require: { when: `byteSize == ${exact}`, reason: 'byteSize is the exact size' } }]).evaluate({ payload, cdm: shipmentCdm });
        const reasons = verdict.pass ? [] : verdict.reasons.map((r) => r.message);
        assert.deepEqual(reasons, exact > limit ? [`the record is ${exact} bytes; at most ${limit} are allowed`] : []);
      }),
      { numRuns: 1000 },
    );
  });

  it('a cycle and a BigInt are refused with JSON.stringify\'s own words', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = { back: cycle };
    for (const payload of [cycle, { n: 10n }]) {
      let message = '';
      try {
        JSON.stringify(payload);
      } catch (err) {
        message = (err as Error).message;
      }
      const got = judge(payload);
      assert.deepEqual(got.reasons, [{ path: 'payload', rule: 'policy-payload', message: `the record cannot be serialised as JSON: ${message}` }]);
    }
  });

  it('numbers, property-based: integers, doubles and short decimals measure as they print', () => {
    const decimal = fc.tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.constantFrom(1, 10, 100, 1000, 10000)).map(([m, scale]) => m / scale);
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.maxSafeInteger(), decimal), (n) => expectRoundTrip([n, -n])),
      { numRuns: 2000 },
    );
  });

  it('any JSON-like value, property-based', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.anything({ withNullPrototype: true, withBoxedValues: true, withSparseArray: true, withDate: true, withMap: true, withSet: true }), (json, anything) => {
        expectRoundTrip(json);
        expectRoundTrip({ anything });
      }),
      { numRuns: 300 },
    );
  });
});
