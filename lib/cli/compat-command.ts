import { catalogSchemaIndex } from '../catalog/catalog-check';
import { checkCompatibility } from '../catalog/compat-levels';
import type { SchemaIndex } from '../catalog/ref-resolver';
import { isSchema } from '../catalog/schema-keywords';
import { COMPATIBILITY_LEVELS, isCompatibilityLevel } from '../catalog/types';
import type { JsonSchema } from '../catalog/types';
import { loadCatalogArgument, parseCommandArgs, readJsonFile } from './cli-input';
import { EXIT } from './cli-types';
import { TectonicError } from '../errors';
import type { CliCommand } from './cli-types';
import { formatReason, json } from './reason-format';

export const compatCommand: CliCommand = {
  name: 'compat',
  summary: 'is the last schema compatible with the earlier ones under a level?',
  usage: `tectonic compat --level LEVEL [--lenient] [--catalog DIR] [--json] SCHEMA...
  SCHEMA files oldest first; the last one is the candidate.
  LEVEL: ${COMPATIBILITY_LEVELS.join(', ')}
  --lenient      Confluent's LENIENT policy (default STRICT)
  --catalog DIR  resolve $refs into this catalog's shared files
  exit 0 compatible, 1 not compatible, 2 usage or input error`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      level: { type: 'string' },
      lenient: { type: 'boolean' },
      json: { type: 'boolean' },
      catalog: { type: 'string' },
    });
    const level = values.level;
    if (typeof level !== 'string') throw new TectonicError('USAGE', '--level is required');
    if (!isCompatibilityLevel(level)) throw new TectonicError('USAGE', `unknown level "${level}"; expected one of ${COMPATIBILITY_LEVELS.join(', ')}`);
    if (positionals.length === 0) throw new TectonicError('USAGE', 'give at least one SCHEMA file (oldest first, the candidate last)');

    const schemas: JsonSchema[] = [];
    for (const file of positionals) {
      const value = await readJsonFile(file, io);
      if (!isSchema(value)) throw new TectonicError('USAGE', `${file} is not a JSON Schema (an object or a boolean)`);
      schemas.push(value);
    }
    let index: SchemaIndex | undefined;
    if (typeof values.catalog === 'string') {
      const loaded = await loadCatalogArgument(values.catalog, io);
      if (!loaded.ok) throw new TectonicError('USAGE', `the catalog ${values.catalog} does not load:\n${loaded.reasons.map((r) => formatReason(r)).join('\n')}`);
      index = catalogSchemaIndex(loaded.catalog);
    }
    const policy = values.lenient === true ? 'LENIENT' : 'STRICT';
    const result = checkCompatibility(level, schemas, { policy, labels: positionals, ...(index ? { index } : {}) });
    if (values.json === true) {
      io.out(json({ compatible: result.compatible, level, policy, reasons: result.reasons }));
    } else if (result.compatible) {
      io.out(`compatible: ${positionals.at(-1)} under ${level} (${policy})\n`);
    } else {
      io.out(`NOT compatible: ${positionals.at(-1)} under ${level} (${policy}), ${result.reasons.length} breaking change(s):\n${result.reasons.map((r) => formatReason(r)).join('\n')}\n`);
    }
    // Issue 18: the README once left out --catalog, and every $ref looked
    // like a breaking change while `catalog check` passed the same schemas.
    if (index === undefined && result.reasons.some((r) => r.rule === 'ref-unresolved')) {
      io.err('hint: these schemas $ref shared files; give the catalog they belong to with --catalog DIR\n');
    }
    return result.compatible ? EXIT.ok : EXIT.failed;
  },
};
