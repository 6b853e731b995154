// A spec is checked when it is compiled, and every mistake is reported with
// the path of the part that is wrong, so the editor can point at the cell.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { compileMappingSpec } from '../../../lib/mapping/index';
import { refused, spec } from './helpers';
import { designExampleSpec } from '../../fixtures/mapping/design-example';

type Case = [label: string, spec: unknown, expected: [path: string, rule: string, message?: RegExp][]];

const rule = (extra: Record<string, unknown>): Record<string, unknown> => ({ to: 'out', from: 'in', ...extra });
const withTransform = (t: unknown): unknown => spec([rule({ transforms: [t] })]);

const cases: Case[] = [
  ['not an object', 'shipment', [['', 'type', /must be an object/]]],
  ['no entity, version or rules', {}, [['entity', 'required'], ['version', 'required'], ['rules', 'required']]],
  ['a bad entity name and version', { entity: 'ship/ment', version: 'v1', rules: [{ to: 'a', value: 1 }] }, [['entity', 'pattern'], ['version', 'semver']]],
  ['unknown top-level key', { ...spec([{ to: 'a', value: 1 }]), rule: [] }, [['rule', 'unknown-key']]],
  ['empty rules', spec([]), [['rules', 'type', /1 to 500 rules, got 0 rules/]]],
  ['a rule that is not an object', spec(['to: a']), [['rules[0]', 'type']]],
  ['a misspelt rule key', spec([rule({ transfroms: [] })]), [['rules[0].transfroms', 'unknown-key']]],
  ['no source', spec([{ to: 'a' }]), [['rules[0]', 'source', /needs one of "from", "value" or "expression"/]]],
  ['two sources', spec([{ to: 'a', from: 'b', value: 1 }]), [['rules[0]', 'source', /not "from" and "value"/]]],
  ['no target', spec([{ from: 'a' }]), [['rules[0].to', 'required']]],
  ['transforms on a constant', spec([{ to: 'a', value: 'x', transforms: [{ upper: {} }] }]), [['rules[0].transforms', 'constant']]],
  ['optional not boolean', spec([rule({ optional: 'yes' })]), [['rules[0].optional', 'type']]],
  ['transforms not an array', spec([rule({ transforms: { number: {} } })]), [['rules[0].transforms', 'type']]],
  ['a constant that is not JSON', spec([{ to: 'a', value: Number.NaN }]), [['rules[0].value', 'type', /NaN/]]],
  ['a default that is not JSON', spec([rule({ default: () => 1 })]), [['rules[0].default', 'type', /function/]]],
  ['__proto__ in a target', spec([{ to: '__proto__.polluted', value: 1 }]), [['rules[0].to', 'path', /"__proto__", which is refused/]]],
  ['constructor in a source', spec([{ to: 'a', from: 'constructor.prototype' }]), [['rules[0].from', 'path', /"constructor", which is refused/]]],
  ['prototype in a source', spec([{ to: 'a', from: 'x.prototype' }]), [['rules[0].from', 'path', /"prototype"/]]],
  ['empty segment', spec([{ to: 'a..b', value: 1 }]), [['rules[0].to', 'path', /empty segment/]]],
  ['target starting with an index', spec([{ to: '0.a', value: 1 }]), [['rules[0].to', 'path', /starts with an array index/]]],
  ['path not a string', spec([{ to: 'a', from: 3 }]), [['rules[0].from', 'type']]],
  ['the same target twice', spec([{ to: 'a', value: 1 }, { to: 'a', from: 'x' }]), [['rules[1].to', 'conflict', /is also written by rules\[0\]/]]],
  ['a target inside another', spec([{ to: 'carrier', from: 'c' }, { to: 'carrier.name', from: 'n' }]), [['rules[1].to', 'conflict', /overlaps rules\[0\]/]]],
  ['array and object under one parent', spec([{ to: 'l.0', value: 1 }, { to: 'l.x', value: 2 }]), [['rules[1].to', 'conflict', /treats "l" as an object/]]],
  ['a transform with two keys', withTransform({ number: {}, trim: {} }), [['rules[0].transforms[0]', 'type', /one key/]]],
  ['an unknown transform', withTransform({ uppercase: {} }), [['rules[0].transforms[0].uppercase', 'unknown-transform', /known: string, number/]]],
  ['options not an object', withTransform({ trim: true }), [['rules[0].transforms[0].trim', 'type']]],
  ['an unknown option', withTransform({ number: { decimals: ',' } }), [['rules[0].transforms[0].number.decimals', 'unknown-option']]],
  ['decimal mark not allowed', withTransform({ number: { decimal: ';' } }), [['rules[0].transforms[0].number.decimal', 'enum']]],
  ['thousands equals decimal', withTransform({ number: { decimal: ',', thousands: ',' } }), [['rules[0].transforms[0].number.thousands', 'conflict']]],
  ['boolean word on both sides', withTransform({ boolean: { true: ['y'], false: ['Y'] } }), [['rules[0].transforms[0].boolean', 'conflict']]],
  ['date with no mode', withTransform({ date: { zone: 'UTC' } }), [['rules[0].transforms[0].date', 'date', /needs one of/]]],
  ['date with two modes', withTransform({ date: { iso: true, epoch: 's' } }), [['rules[0].transforms[0].date', 'date', /not "iso" and "epoch"/]]],
  ['date format without a zone', withTransform({ date: { format: 'dd/MM/yyyy' } }), [['rules[0].transforms[0].date.zone', 'required']]],
  ['an unknown zone and a format without a year', withTransform({ date: { format: 'dd.MM.', zone: 'Europe/Atlantis' } }), [['rules[0].transforms[0].date.zone', 'zone'], ['rules[0].transforms[0].date.format', 'format', /must name the year, month and day/]]],
  ['a format with an epoch token', withTransform({ date: { format: 'X', zone: 'UTC' } }), [['rules[0].transforms[0].date.format', 'format', /use \{ "epoch": "s" \}/]]],
  ['epoch with a zone', withTransform({ date: { epoch: 's', zone: 'UTC' } }), [['rules[0].transforms[0].date.zone', 'unknown-option']]],
  ['epoch unit', withTransform({ date: { epoch: 'min' } }), [['rules[0].transforms[0].date.epoch', 'enum']]],
  ['ambiguous policy', withTransform({ date: { iso: true, ambiguous: 'first' } }), [['rules[0].transforms[0].date.ambiguous', 'enum']]],
  ['date output not a string', withTransform({ date: { iso: true, output: 3 } }), [['rules[0].transforms[0].date.output', 'type']]],
  ['date output misspelt', withTransform({ date: { iso: true, output: 'ISO' } }), [['rules[0].transforms[0].date.output', 'enum', /did you mean "iso"/]]],
  ['date output of literals only', withTransform({ date: { iso: true, output: "'today'" } }), [['rules[0].transforms[0].date.output', 'format', /writes "today" for every date/]]],
  ['date output too long', withTransform({ date: { iso: true, output: 'y'.repeat(101) } }), [['rules[0].transforms[0].date.output', 'format', /1 to 100 characters/]]],
  ['date outputZone unknown', withTransform({ date: { iso: true, outputZone: 'Mars/Olympus' } }), [['rules[0].transforms[0].date.outputZone', 'zone']]],
  ['date epochMs with an outputZone', withTransform({ date: { iso: true, output: 'epochMs', outputZone: 'UTC' } }), [['rules[0].transforms[0].date.outputZone', 'unknown-option', /an epoch is an instant/]]],
  ['mask without an option', withTransform({ mask: {} }), [['rules[0].transforms[0].mask', 'mask', /needs "keepAfter"/]]],
  ['mask with both options', withTransform({ mask: { keep: 2, keepAfter: '@' } }), [['rules[0].transforms[0].mask', 'mask', /not both/]]],
  ['mask keepAfter empty', withTransform({ mask: { keepAfter: '' } }), [['rules[0].transforms[0].mask.keepAfter', 'type', /1 to 16 characters/]]],
  ['mask keep out of range', withTransform({ mask: { keep: 65 } }), [['rules[0].transforms[0].mask.keep', 'type']]],
  ['mask with an unknown option', withTransform({ mask: { keepBefore: '@' } }), [['rules[0].transforms[0].mask.keepBefore', 'unknown-option']]],
  ['lookup without a table', withTransform({ lookup: {} }), [['rules[0].transforms[0].lookup.table', 'required']]],
  ['lookup otherwise', withTransform({ lookup: { table: { A: 'a' }, otherwise: 'drop' } }), [['rules[0].transforms[0].lookup.otherwise', 'enum']]],
  ['lookup value that is an object', withTransform({ lookup: { table: { A: { x: 1 } } } }), [['rules[0].transforms[0].lookup.table.A', 'type']]],
  ['lookup codes that collide ignoring case', withTransform({ lookup: { table: { A: 'a', a: 'b' }, ignoreCase: true } }), [['rules[0].transforms[0].lookup.table.a', 'conflict']]],
  ['unit across dimensions', withTransform({ unit: { from: 'kg', to: 'm' } }), [['rules[0].transforms[0].unit', 'unit', /cannot convert mass \(kg\) to length \(m\)/]]],
  ['unknown unit', withTransform({ unit: { from: 'stone', to: 'kg' } }), [['rules[0].transforms[0].unit.from', 'unit']]],
  ['round with a fraction', withTransform({ round: 2.5 }), [['rules[0].transforms[0].round', 'type']]],
  ['round out of range', withTransform({ round: { decimals: 16 } }), [['rules[0].transforms[0].round.decimals', 'type']]],
  ['split without a separator', withTransform({ split: { index: 0 } }), [['rules[0].transforms[0].split.separator', 'required']]],
  ['concat with a forbidden path', withTransform({ concat: { with: ['a.__proto__'] } }), [['rules[0].transforms[0].concat.with[0]', 'path']]],
  ['a regex with a back-reference (no linear-time match)', withTransform({ regex: { pattern: '^(a+)\\1$' } }), [['rules[0].transforms[0].regex.pattern', 'regex', /linear-time/]]],
  ['a regex with lookahead (no linear-time match)', withTransform({ regex: { pattern: 'a(?=b)' } }), [['rules[0].transforms[0].regex.pattern', 'regex', /linear-time/]]],
  ['a stateful regex flag', withTransform({ regex: { pattern: 'a', flags: 'g' } }), [['rules[0].transforms[0].regex.flags', 'regex', /stateful/]]],
  ['an invalid regex', withTransform({ regex: { pattern: '(' } }), [['rules[0].transforms[0].regex.pattern', 'regex', /not a valid regular expression/]]],
  ['a regex group that does not exist', withTransform({ regex: { pattern: '(a)', group: 2 } }), [['rules[0].transforms[0].regex.group', 'regex', /0 to 1/]]],
  ['array each with both forms', withTransform({ array: { each: { rules: [], transforms: [] } } }), [['rules[0].transforms[0].array.each', 'type', /exactly one/]]],
  ['errors inside a nested spec', withTransform({ array: { each: { rules: [{ to: 'a', from: '__proto__' }, { to: 'b', from: 'b', transforms: [{ unit: { from: 'C', to: 'kg' } }] }] } } }), [
    ['rules[0].transforms[0].array.each.rules[0].from', 'path'],
    ['rules[0].transforms[0].array.each.rules[1].transforms[0].unit', 'unit'],
  ]],
  ['an expression that does not parse', spec([{ to: 'a', expression: 'a +' }]), [['rules[0].expression', 'expression', /is not valid JSONata/]]],
  ['an empty expression', spec([{ to: 'a', expression: ' ' }]), [['rules[0].expression', 'type']]],
  ['id not an object', { ...spec([{ to: 'a', value: 1 }]), id: ['shp_no'] }, [['id', 'type', /must be an object such as \{ "from": \["shp_no"\] \}, got array/]]],
  ['id without from', { ...spec([{ to: 'a', value: 1 }]), id: {} }, [['id.from', 'required', /1 to 16 source paths/]]],
  ['id.from a single path, not an array', { ...spec([{ to: 'a', value: 1 }]), id: { from: 'shp_no' } }, [['id.from', 'type', /got string/]]],
  ['id.from empty', { ...spec([{ to: 'a', value: 1 }]), id: { from: [] } }, [['id.from', 'type', /got 0 paths/]]],
  ['id.from with 17 paths', { ...spec([{ to: 'a', value: 1 }]), id: { from: Array.from({ length: 17 }, (_, i) => `k${i}`) } }, [['id.from', 'type', /got 17 paths/]]],
  ['id.from paths that are wrong, twice the same', { ...spec([{ to: 'a', value: 1 }]), id: { from: ['shp_no', 'a.__proto__', 3, 'shp_no', 'b..c'] } }, [
    ['id.from[1]', 'path', /"__proto__", which is refused/],
    ['id.from[2]', 'type'],
    ['id.from[3]', 'conflict', /"shp_no" is already id.from\[0\]/],
    ['id.from[4]', 'path', /empty segment/],
  ]],
  ['id with a misspelt key and a description that is not text', { ...spec([{ to: 'a', value: 1 }]), id: { form: ['x'], from: ['x'], description: 1 } }, [['id.form', 'unknown-key', /known: from, description/], ['id.description', 'type']]],
  ['id is reported with the rules\' mistakes', { ...spec([{ to: 'a', from: '__proto__' }]), id: { from: [] } }, [['rules[0].from', 'path'], ['id.from', 'type']]],
  ['no id inside a nested spec', withTransform({ array: { each: { id: { from: ['x'] }, rules: [{ to: 'a', from: 'a' }] } } }), [['rules[0].transforms[0].array.each.id', 'unknown-key']]],
  ['every rule is checked', spec([{ to: 'a', from: 'x', transforms: [{ number: { decimal: 'x' } }] }, { to: 'b', from: 'y', transforms: [{ date: { format: 'yyyy', zone: 'Nowhere' } }] }]), [
    ['rules[0].transforms[0].number.decimal', 'enum'],
    ['rules[1].transforms[0].date.zone', 'zone'],
    ['rules[1].transforms[0].date.format', 'format'],
  ]],
];

describe('spec validation', () => {
  for (const [label, input, expected] of cases) {
    it(label, () => {
      const reasons = refused(input);
      assert.deepEqual(
        reasons.map((r) => [r.path, r.rule]),
        expected.map(([p, r]) => [p, r]),
        JSON.stringify(reasons),
      );
      expected.forEach(([, , message], i) => {
        if (message) assert.match(reasons[i]?.message ?? '', message);
      });
    });
  }

  it('the DESIGN example compiles', () => {
    const result = refusedOrCompiled(designExampleSpec());
    assert.deepEqual(result, { entity: 'shipment', version: '1.0.0', sync: true });
  });
});


function refusedOrCompiled(input: unknown): unknown {
  const result = compileMappingSpec(input);
  return result.ok ? { entity: result.value.entity, version: result.value.version, sync: result.value.sync } : result.reasons;
}
