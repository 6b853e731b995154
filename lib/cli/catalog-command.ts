import { checkCatalog } from '../catalog/catalog-check';
import { compileCatalogValidators } from '../catalog/catalog-validators';
import { loadCatalogArgument, parseCommandArgs } from './cli-input';
import { EXIT } from './cli-types';
import { TectonicError } from '../errors';
import type { CliCommand, CliIo, ExitCode } from './cli-types';
import { formatReason, json } from './reason-format';

export const catalogCommand: CliCommand = {
  name: 'catalog',
  summary: 'check a CDM catalog: files, schemas, every entity history against its level',
  usage: `tectonic catalog check DIR [--lenient] [--json]
  exit 0 the catalog is sound, 1 it is not (with the reasons), 2 usage error or DIR is not a catalog`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'check') throw new TectonicError('USAGE', sub === undefined ? 'missing subcommand: check' : `unknown subcommand "${sub}" (expected: check)`);
    return check(rest, io);
  },
};

async function check(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, lenient: { type: 'boolean' } });
  const [dir, ...extra] = positionals;
  if (dir === undefined || extra.length > 0) throw new TectonicError('USAGE', 'give exactly one catalog folder');
  const asJson = values.json === true;
  const loaded = await loadCatalogArgument(dir, io);
  if (!loaded.ok) return report(io, asJson, { ok: false, stage: 'load', reasons: loaded.reasons, entities: [] });
  const compiled = compileCatalogValidators(loaded.catalog);
  if (!compiled.ok) return report(io, asJson, { ok: false, stage: 'compile', reasons: compiled.reasons, entities: [] });
  const result = checkCatalog(loaded.catalog, { policy: values.lenient === true ? 'LENIENT' : 'STRICT' });
  const entities = result.entities.map((e) => ({ entity: e.entity, level: e.level, versions: e.versions, compatible: e.compatible }));
  return report(io, asJson, { ok: result.compatible, stage: 'compatibility', reasons: result.reasons, entities });
}

interface CheckReport {
  ok: boolean;
  stage: 'load' | 'compile' | 'compatibility';
  reasons: Parameters<typeof formatReason>[0][];
  entities: { entity: string; level: string; versions: string[]; compatible: boolean }[];
}

function report(io: CliIo, asJson: boolean, r: CheckReport): ExitCode {
  if (asJson) io.out(json(r));
  else {
    for (const e of r.entities) io.out(`${e.compatible ? 'ok  ' : 'FAIL'}  ${e.entity}  ${e.level}  ${e.versions.join(' -> ')}\n`);
    if (r.ok) io.out('catalog ok\n');
    else io.out(`catalog refused (${r.stage}), ${r.reasons.length} problem(s):\n${r.reasons.map((x) => formatReason(x)).join('\n')}\n`);
  }
  return r.ok ? EXIT.ok : EXIT.failed;
}
