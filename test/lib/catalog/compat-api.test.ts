import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { checkCompatibility } from '../../../lib/catalog/compat-levels';
import { TectonicError } from '../../../lib/errors';
import { addSchemaDocument, createSchemaIndex, resolveRef } from '../../../lib/catalog/ref-resolver';

describe('checkCompatibility: the shape of its answer', () => {
  it('each reason carries path, rule, message, from/to in old->new terms, direction and what it was compared with', () => {
    const result = checkCompatibility('BACKWARD', [{ type: 'object', properties: { w: { type: 'number', minimum: 0 } } }, { type: 'object', properties: { w: { type: 'number', minimum: 5 } } }], { labels: ['1.0.0', '1.1.0'] });
    assert.deepEqual(result.reasons, [{
      path: '$.w',
      rule: 'range-narrowed',
      message: 'the lower bound of the number differs: data written with the older schema can be refused by readers using the newer one',
      direction: 'backward',
      from: { minimum: 0 },
      to: { minimum: 5 },
      against: '1.0.0',
    }]);
  });

  it('FORWARD names the change from old to new as well', () => {
    const result = checkCompatibility('FORWARD', [{ type: 'number', minimum: 5 }, { type: 'number', minimum: 0 }]);
    assert.equal(result.reasons[0]?.rule, 'range-widened');
    assert.deepEqual([result.reasons[0]?.from, result.reasons[0]?.to], [{ minimum: 5 }, { minimum: 0 }]);
  });

  it('an unresolvable $ref is breaking with rule ref-unresolved, never guessed', () => {
    const result = checkCompatibility('BACKWARD', [{ type: 'string' }, { $ref: 'https://nowhere.test/x' }]);
    assert.equal(result.compatible, false);
    assert.deepEqual(result.reasons.map((r) => r.rule), ['ref-unresolved']);
    assert.match(result.reasons[0]?.message ?? '', /treated as breaking/);
  });

  it('a $ref loop with nothing in between is undecidable, and terminates', () => {
    const looping = { $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' };
    const result = checkCompatibility('FULL', [looping, looping]);
    assert.equal(result.compatible, false);
    assert.ok(result.reasons.every((r) => r.rule === 'undecidable'));
  });

  it('$dynamicRef is undecidable when it differs', () => {
    const result = checkCompatibility('BACKWARD', [{ $dynamicRef: '#a' }, { $dynamicRef: '#b' }]);
    assert.deepEqual(result.reasons.map((r) => r.rule), ['undecidable']);
  });

  it('no schema at all is a programming error', () => {
    assert.throws(() => checkCompatibility('BACKWARD', []), (err: unknown) => err instanceof TectonicError && err.code === 'INVALID_ARGUMENT');
  });
});

describe('ref resolution', () => {
  const index = createSchemaIndex();
  const common = addSchemaDocument(index, { $id: 'https://t.test/cdm/common/1', $defs: { a: { $anchor: 'alpha', type: 'string' }, 'x/y': { type: 'integer' } } });
  const doc = addSchemaDocument(index, { $id: 'https://t.test/cdm/e/1', properties: { p: { $ref: '../common/1#/$defs/a' } } });

  it('relative, absolute, anchor and escaped pointer references', () => {
    const rel = resolveRef('../common/1#/$defs/a', doc);
    assert.ok(rel.ok && typeof rel.target.schema === 'object' && rel.target.schema.type === 'string');
    const anchor = resolveRef('https://t.test/cdm/common/1#alpha', doc);
    assert.ok(anchor.ok && typeof anchor.target.schema === 'object' && anchor.target.schema.type === 'string');
    const escaped = resolveRef('#/$defs/x~1y', common);
    assert.ok(escaped.ok && typeof escaped.target.schema === 'object' && escaped.target.schema.type === 'integer');
  });

  it('misses are values with a message', () => {
    const missing = resolveRef('https://t.test/cdm/common/2#/$defs/a', doc);
    assert.equal(missing.ok, false);
    const pointer = resolveRef('#/$defs/zzz', common);
    assert.ok(!pointer.ok && /no "zzz"/.test(pointer.message));
  });
});
