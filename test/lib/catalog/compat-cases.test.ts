import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createCatalogAjv } from '../../../lib/catalog/ajv-setup';
import { checkCompatibility } from '../../../lib/catalog/compat-levels';
import { addSchemaDocument, createSchemaIndex } from '../../../lib/catalog/ref-resolver';
import { COMPATIBILITY_LEVELS } from '../../../lib/catalog/types';
import type { CompatibilityLevel, CompatibilityPolicy, JsonObject, JsonSchema, JsonValue } from '../../../lib/catalog/types';

/**
 * The data-driven table of schema histories: each case's verdict is tied to
 * real data by a witness document that one schema accepts and the other
 * refuses, checked with the same ajv configuration the catalog uses.
 */
interface CompatCase {
  name: string;
  level: CompatibilityLevel;
  policy?: CompatibilityPolicy;
  resources?: JsonObject[];
  schemas: JsonSchema[];
  compatible: boolean;
  rules?: string[];
  paths?: string[];
  witness?: { document: JsonValue; acceptedBy: number; refusedBy: number };
}

const dir = join(__dirname, '../../fixtures/compat-cases');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const cases: (CompatCase & { file: string })[] = files.flatMap((file) => (JSON.parse(readFileSync(join(dir, file), 'utf8')) as CompatCase[]).map((c) => ({ ...c, file })));

function validates(schema: JsonSchema, resources: JsonObject[], document: JsonValue): boolean {
  // One ajv per schema: versions of one entity may share an $id.
  const ajv = createCatalogAjv();
  for (const r of resources) ajv.addSchema(r);
  return ajv.compile(schema)(document);
}

/** For each level, which (accepting, refusing) schema pair proves a break. */
function witnessFits(level: CompatibilityLevel, n: number, accepted: number, refused: number): boolean {
  const last = n - 1;
  const backward = refused === last && accepted < last;
  const forward = accepted === last && refused < last;
  switch (level) {
    case 'BACKWARD': return backward && accepted === last - 1;
    case 'FORWARD': return forward && refused === last - 1;
    case 'FULL': return (backward && accepted === last - 1) || (forward && refused === last - 1);
    case 'BACKWARD_TRANSITIVE': return backward;
    case 'FORWARD_TRANSITIVE': return forward;
    case 'FULL_TRANSITIVE': return backward || forward;
    case 'NONE': return false;
  }
}

describe('compatibility table', () => {
  it('has at least 60 histories covering all seven levels, incompatible ones with witnesses', () => {
    assert.ok(cases.length >= 60, `only ${cases.length} cases`);
    for (const level of COMPATIBILITY_LEVELS) assert.ok(cases.some((c) => c.level === level), `no case for ${level}`);
    for (const level of COMPATIBILITY_LEVELS.filter((l) => l !== 'NONE')) {
      assert.ok(cases.some((c) => c.level === level && !c.compatible), `no incompatible case for ${level}`);
      assert.ok(cases.some((c) => c.level === level && c.compatible), `no compatible case for ${level}`);
    }
    assert.ok(cases.some((c) => c.policy === 'LENIENT'), 'no LENIENT case');
  });

  for (const c of cases) {
    it(`${c.file}: ${c.level}${c.policy ? ` ${c.policy}` : ''}: ${c.name}`, () => {
      const index = createSchemaIndex();
      for (const r of c.resources ?? []) addSchemaDocument(index, r);
      const result = checkCompatibility(c.level, c.schemas, { index, ...(c.policy ? { policy: c.policy } : {}) });
      const rules = result.reasons.map((r) => r.rule);
      assert.equal(result.compatible, c.compatible, `verdict; reasons: ${JSON.stringify(result.reasons, null, 1)}`);
      assert.equal(result.reasons.length === 0, c.compatible, 'reasons exist exactly when incompatible');
      for (const rule of c.rules ?? []) assert.ok(rules.includes(rule), `expected rule ${rule}, got ${rules.join(', ')}`);
      for (const path of c.paths ?? []) assert.ok(result.reasons.some((r) => r.path === path), `expected a reason at ${path}, got ${result.reasons.map((r) => r.path).join(', ')}`);
      for (const r of result.reasons) {
        assert.ok(r.path.startsWith('$'), `path ${r.path} is a JSON path`);
        assert.ok(r.message.length > 0);
      }
      if (c.compatible) return;
      assert.ok(c.witness, 'every incompatible case carries a witness document');
      const { document, acceptedBy, refusedBy } = c.witness;
      assert.ok(witnessFits(c.level, c.schemas.length, acceptedBy, refusedBy), `witness pair ${acceptedBy}->${refusedBy} does not fit ${c.level}`);
      const resources = c.resources ?? [];
      assert.equal(validates(c.schemas[acceptedBy] as JsonSchema, resources, document), true, `schema #${acceptedBy} must accept the witness`);
      assert.equal(validates(c.schemas[refusedBy] as JsonSchema, resources, document), false, `schema #${refusedBy} must refuse the witness`);
    });
  }
});
