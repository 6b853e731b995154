// checkEnvelope and majorOf: what msg.cdm must hold before anything is published.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import { type CdmEnvelope, checkEnvelope, envelopeProblems, isCleanEnvelope, majorOf, markValidated, typeName, validationMark } from '../../../lib/envelope/envelope';

const valid: CdmEnvelope = {
  entity: 'shipment',
  version: '1.2.0',
  site: 'site-a',
  id: '01JDTEST000001',
  time: '2026-11-24T07:00:01.250Z',
  source: 'urn:tectonic:site-a:erp',
};
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('checkEnvelope: accepted envelopes', () => {
  const cases: Array<{ name: string; input: Record<string, unknown>; expected: CdmEnvelope }> = [
    { name: 'the six required attributes', input: { ...valid }, expected: valid },
    {
      name: 'every optional attribute',
      input: { ...valid, correlationId: 'corr-1', traceparent, validated: 'shipment@1.2.0' },
      expected: { ...valid, correlationId: 'corr-1', traceparent, validated: 'shipment@1.2.0' },
    },
    { name: 'unknown keys are dropped', input: { ...valid, extra: 1, payload: { a: 1 } }, expected: valid },
    { name: 'a time with an offset', input: { ...valid, time: '2026-11-24T08:00:00+01:00' }, expected: { ...valid, time: '2026-11-24T08:00:00+01:00' } },
    { name: 'a lower-case z and nanoseconds', input: { ...valid, time: '2026-11-24t07:00:00.123456789z' }, expected: { ...valid, time: '2026-11-24t07:00:00.123456789z' } },
    { name: 'a prerelease version', input: { ...valid, version: '2.0.0-rc.1' }, expected: { ...valid, version: '2.0.0-rc.1' } },
    { name: 'names with ".", "_" and "-"', input: { ...valid, entity: 'ship.ment_x-1', site: 'A.b_c-9' }, expected: { ...valid, entity: 'ship.ment_x-1', site: 'A.b_c-9' } },
    { name: 'a 64-character entity', input: { ...valid, entity: 'e'.repeat(64) }, expected: { ...valid, entity: 'e'.repeat(64) } },
    { name: 'unicode in id and source', input: { ...valid, id: 'ü€-😀', source: 'urn:größe' }, expected: { ...valid, id: 'ü€-😀', source: 'urn:größe' } },
  ];
  for (const { name, input, expected } of cases) {
    it(name, () => {
      assert.deepEqual(checkEnvelope(input), { ok: true, value: expected });
    });
  }

  it('returns a fresh plain object, not the input', () => {
    const input = { ...valid };
    const checked = checkEnvelope(input);
    assert.ok(checked.ok);
    assert.notEqual(checked.value, input);
    assert.equal(Object.getPrototypeOf(checked.value), Object.prototype);
  });

  it('an own __proto__ key does not travel into the copy', () => {
    const input = JSON.parse(`{"entity":"shipment","version":"1.2.0","site":"a","id":"1","time":"2026-11-24T07:00:00Z","source":"s","__proto__":{"polluted":true}}`) as Record<string, unknown>;
    const checked = checkEnvelope(input);
    assert.ok(checked.ok);
    assert.equal(Object.getPrototypeOf(checked.value), Object.prototype);
    assert.equal((checked.value as unknown as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(checked.value), ['entity', 'version', 'site', 'id', 'time', 'source']);
  });
});

describe('checkEnvelope: refused envelopes', () => {
  const without = (key: keyof CdmEnvelope): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...valid };
    delete copy[key];
    return copy;
  };
  // [name, input, expected [path, rule] pairs]
  const cases: Array<[string, unknown, Array<[string, string]>]> = [
    ['undefined', undefined, [['cdm', 'type']]],
    ['null', null, [['cdm', 'type']]],
    ['an array', [valid], [['cdm', 'type']]],
    ['a string', 'shipment', [['cdm', 'type']]],
    ['an empty object', {}, [['cdm.entity', 'required'], ['cdm.version', 'required'], ['cdm.site', 'required'], ['cdm.id', 'required'], ['cdm.time', 'required'], ['cdm.source', 'required']]],
    ['no entity', without('entity'), [['cdm.entity', 'required']]],
    ['no version', without('version'), [['cdm.version', 'required']]],
    ['no site', without('site'), [['cdm.site', 'required']]],
    ['no id', without('id'), [['cdm.id', 'required']]],
    ['no time', without('time'), [['cdm.time', 'required']]],
    ['no source', without('source'), [['cdm.source', 'required']]],
    ['a numeric entity', { ...valid, entity: 42 }, [['cdm.entity', 'type']]],
    ['an empty entity', { ...valid, entity: '' }, [['cdm.entity', 'minLength']]],
    ['a 65-character entity', { ...valid, entity: 'e'.repeat(65) }, [['cdm.entity', 'maxLength']]],
    ['an entity with "/"', { ...valid, entity: 'a/b' }, [['cdm.entity', 'pattern']]],
    ['an entity with "+"', { ...valid, entity: 'a+' }, [['cdm.entity', 'pattern']]],
    ['an entity with "#"', { ...valid, entity: 'a#' }, [['cdm.entity', 'pattern']]],
    ['an entity starting with "$"', { ...valid, entity: '$SYS' }, [['cdm.entity', 'pattern']]],
    ['an entity starting with "-"', { ...valid, entity: '-a' }, [['cdm.entity', 'pattern']]],
    ['a site with a space', { ...valid, site: 'site a' }, [['cdm.site', 'pattern']]],
    ['a site with "/"', { ...valid, site: 'a/b' }, [['cdm.site', 'pattern']]],
    ['a version that is not semver', { ...valid, version: '1.2' }, [['cdm.version', 'semver']]],
    ['a version "latest"', { ...valid, version: 'latest' }, [['cdm.version', 'semver']]],
    ['a numeric version', { ...valid, version: 1 }, [['cdm.version', 'type']]],
    ['a date without time', { ...valid, time: '2026-11-24' }, [['cdm.time', 'format']]],
    ['a time without zone', { ...valid, time: '2026-11-24T07:00:00' }, [['cdm.time', 'format']]],
    ['an impossible month', { ...valid, time: '2026-13-24T07:00:00Z' }, [['cdm.time', 'format']]],
    ['epoch milliseconds', { ...valid, time: 1764000000000 }, [['cdm.time', 'type']]],
    ['a 257-character id', { ...valid, id: 'i'.repeat(257) }, [['cdm.id', 'maxLength']]],
    ['an id with a newline', { ...valid, id: 'a\nb' }, [['cdm.id', 'format']]],
    ['an id with DEL', { ...valid, id: 'a\u007fb' }, [['cdm.id', 'format']]],
    ['a 1025-character source', { ...valid, source: 's'.repeat(1025) }, [['cdm.source', 'maxLength']]],
    ['a null correlationId', { ...valid, correlationId: null }, [['cdm.correlationId', 'type']]],
    ['an empty correlationId', { ...valid, correlationId: '' }, [['cdm.correlationId', 'minLength']]],
    ['a traceparent in upper case', { ...valid, traceparent: traceparent.toUpperCase() }, [['cdm.traceparent', 'format']]],
    ['a short traceparent', { ...valid, traceparent: '00-abc-def-01' }, [['cdm.traceparent', 'format']]],
    ['a 56-character traceparent', { ...valid, traceparent: `${traceparent}0` }, [['cdm.traceparent', 'maxLength']]],
    ['a numeric validated', { ...valid, validated: 1 }, [['cdm.validated', 'type']]],
    ['several problems at once', { ...valid, entity: 'a/b', time: 'now', traceparent: 'x' }, [['cdm.entity', 'pattern'], ['cdm.time', 'format'], ['cdm.traceparent', 'format']]],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      const checked = checkEnvelope(input);
      assert.equal(checked.ok, false);
      if (checked.ok) return;
      assert.deepEqual(checked.reasons.map((r) => [r.path, r.rule]), expected);
      for (const r of checked.reasons) assert.ok(r.message.length > 0, `${r.path} has a message`);
    });
  }

  it('the prefix names the paths', () => {
    const checked = checkEnvelope({ ...valid, site: '' }, 'msg.cdm');
    assert.deepEqual(checked, { ok: false, reasons: [{ path: 'msg.cdm.site', rule: 'minLength', message: 'must not be empty' }] });
  });

  it('the type reason names what it got', () => {
    const checked = checkEnvelope([]);
    assert.equal(checked.ok, false);
    if (!checked.ok) assert.match(checked.reasons[0]?.message ?? '', /got array$/);
  });
});

describe('checkEnvelope: the quick check and the worded one agree', () => {
  // checkEnvelope answers clean envelopes without wording reasons, and
  // remembers the entities, versions, sites and sources it found clean: the
  // answer must be the one envelopeProblems gives, whatever was seen before.
  const spoil = fc.constantFrom('', ' ', 'a/b', '$SYS', '\n', '\u007f', 'x'.repeat(65), '1.2', '2026-13-01T00:00:00Z', 'ü€', '"q"', '\\', null, 7, undefined);
  const attribute = (good: string[]): fc.Arbitrary<unknown> => fc.oneof(fc.constantFrom(...good), spoil, fc.string({ maxLength: 70 }));
  const envelope = fc.record(
    {
      entity: attribute(['shipment', 'lab-result', 'order.v2']),
      version: attribute(['1.2.0', '2.0.0-rc.1', '0.1.0']),
      site: attribute(['site-a', 'FRA1']),
      id: attribute(['01JDTEST000001']),
      time: attribute(['2026-11-24T07:00:01.250Z', '2026-11-24T08:00:00+01:00']),
      source: attribute(['urn:tectonic:site-a:erp', 'urn:x']),
      correlationId: attribute(['corr-1']),
      traceparent: attribute([traceparent]),
      validated: attribute(['shipment@1.2.0']),
    },
    { requiredKeys: [] },
  );
  it('on random envelopes, clean and spoiled', () => {
    fc.assert(
      fc.property(envelope, (input) => {
        const checked = checkEnvelope(input);
        const problems = envelopeProblems(input);
        assert.equal(checked.ok, problems === undefined, JSON.stringify(input));
        assert.equal(isCleanEnvelope(input), checked.ok);
        if (!checked.ok) assert.deepEqual(checked.reasons, problems);
      }),
      { numRuns: 3000 },
    );
  });

  it('a source found clean once does not vouch for a different one', () => {
    assert.ok(checkEnvelope({ ...valid, source: 'urn:clean' }).ok);
    assert.deepEqual(checkEnvelope({ ...valid, source: 'urn:clean\n' }), { ok: false, reasons: [{ path: 'cdm.source', rule: 'format', message: 'must not contain control characters' }] });
  });
});

describe('markValidated: msg.cdm as cdm-validate passes it on', () => {
  it('a new object with every member of the old one and the validation', () => {
    const old = { ...valid, correlationId: 'c-1', extra: { note: 'kept' } };
    const next = markValidated(old, 'shipment', '1.3.0');
    assert.notEqual(next, old);
    assert.deepEqual(next, { ...old, version: '1.3.0', validated: 'shipment@1.3.0' });
    assert.equal(old.version, '1.2.0', 'the old envelope is left as it was');
  });

  it('from no envelope at all: entity, version and mark alone', () => {
    for (const cdm of [undefined, null, 'text', [1]]) assert.deepEqual(markValidated(cdm, 'order', '2.0.0'), { entity: 'order', version: '2.0.0', validated: 'order@2.0.0' });
  });

  it('an own "__proto__" member stays a member and sets no prototype', () => {
    const parsed = JSON.parse('{"entity":"shipment","__proto__":{"polluted":true}}') as Record<string, unknown>;
    const next = markValidated(parsed, 'shipment', '1.2.0');
    assert.equal(Object.getPrototypeOf(next), Object.prototype);
    assert.equal((next as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual(Object.getOwnPropertyDescriptor(next, '__proto__')?.value, { polluted: true });
  });

  it('the mark is one string per entity and version', () => {
    assert.equal(validationMark('shipment', '1.2.0'), 'shipment@1.2.0');
    assert.equal(validationMark('shipment', '1.2.0'), validationMark('shipment', '1.2.0'));
    assert.equal(validationMark('shipment', '1.3.0'), 'shipment@1.3.0');
  });
});

describe('majorOf and typeName', () => {
  const majors: Array<[string, number]> = [['0.1.0', 0], ['1.2.0', 1], ['12.0.3', 12], ['2.0.0-rc.1', 2]];
  for (const [version, major] of majors) {
    it(`majorOf(${version}) = ${major}`, () => assert.equal(majorOf(version), major));
  }
  const types: Array<[unknown, string]> = [[null, 'null'], [[], 'array'], [{}, 'object'], ['', 'string'], [1, 'number'], [undefined, 'undefined'], [true, 'boolean']];
  for (const [value, name] of types) {
    it(`typeName(${JSON.stringify(value) ?? 'undefined'}) = ${name}`, () => assert.equal(typeName(value), name));
  }
});
