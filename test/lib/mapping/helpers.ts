import assert from 'node:assert/strict';
import { type CompiledMapping, type MapResult, compileMappingSpec } from '../../../lib/mapping/index';
import type { Reason } from '../../../lib/reasons';

/** Compiles a spec that must compile; the failure message shows the reasons. */
export function compiled(spec: unknown): CompiledMapping {
  const result = compileMappingSpec(spec);
  if (!result.ok) assert.fail(`spec does not compile: ${JSON.stringify(result.reasons)}`);
  return result.value;
}

/** map() of a spec without expressions, which must answer synchronously. */
export function mapNow(mapping: CompiledMapping, record: unknown): MapResult {
  const result = mapping.map(record);
  if (result instanceof Promise) return assert.fail('map() returned a promise for a synchronous spec');
  return result;
}

/** The reasons of a spec that must not compile. */
export function refused(spec: unknown): Reason[] {
  const result = compileMappingSpec(spec);
  assert.equal(result.ok, false, 'the spec compiled');
  return result.ok ? [] : result.reasons;
}

export function spec(rules: unknown[]): { entity: string; version: string; rules: unknown[] } {
  return { entity: 'test', version: '1.0.0', rules };
}

/** One rule `{ to: "out", from: "in", transforms }` applied to `{ in: value }`. */
export async function transformed(transforms: unknown[], value: unknown): Promise<MapResult> {
  return compiled(spec([{ to: 'out', from: 'in', transforms }])).map({ in: value });
}

/** What a table row expects: the value of `out`, or a reason with this rule whose message matches. */
export type Expected = { value: unknown } | { rule: string; message: RegExp };

export function check(result: MapResult, expected: Expected, label: string): void {
  if ('value' in expected) {
    assert.ok(result.ok, `${label}: refused: ${result.ok ? '' : JSON.stringify(result.reasons)}`);
    assert.deepEqual(result.value, expected.value === undefined ? {} : { out: expected.value }, label);
  } else {
    assert.ok(!result.ok, `${label}: mapped to ${result.ok ? JSON.stringify(result.value) : ''}`);
    assert.equal(result.reasons.length, 1, `${label}: ${JSON.stringify(result.reasons)}`);
    const [r] = result.reasons;
    assert.equal(r?.path, 'out', label);
    assert.equal(r?.rule, expected.rule, label);
    assert.match(r?.message ?? '', expected.message, label);
  }
}

/** Rows of [label, transforms, input, expected], run as one test each. */
export type Row = [label: string, transforms: unknown[], input: unknown, expected: Expected];
