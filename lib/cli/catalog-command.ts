import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { checkCatalog } from '../catalog/catalog-check';
import { catalogDocs } from '../catalog/catalog-docs';
import { compileCatalogValidators } from '../catalog/catalog-validators';
import { loadCatalogArgument, parseCommandArgs } from './cli-input';
import { EXIT } from './cli-types';
import { TectonicError } from '../errors';
import type { CliCommand, CliIo, ExitCode } from './cli-types';
import { formatReason, json } from './reason-format';

export const catalogCommand: CliCommand = {
  name: 'catalog',
  summary: 'check a CDM catalog (every entity history against its level), or write its documentation',
  usage: `tectonic catalog check DIR [--lenient] [--json]
  exit 0 the catalog is sound, 1 it is not (with the reasons), 2 usage error or DIR is not a catalog
tectonic catalog docs DIR [--entity NAME]... [--out FILE]
  Markdown for site technicians: each entity's versions, standing and sunsets, each version's fields with an example`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'check') return check(rest, io);
    if (sub === 'docs') return docs(rest, io);
    throw new TectonicError('USAGE', sub === undefined ? 'missing subcommand: check or docs' : `unknown subcommand "${sub}" (expected: check, docs)`);
  },
};

async function docs(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(args, { entity: { type: 'string', multiple: true }, out: { type: 'string' } });
  const [dir, ...extra] = positionals;
  if (dir === undefined || extra.length > 0) throw new TectonicError('USAGE', 'give exactly one catalog folder');
  const loaded = await loadCatalogArgument(dir, io);
  if (!loaded.ok) throw new TectonicError('USAGE', `${dir} does not load: ${loaded.reasons.map((r) => formatReason(r).trim()).join('; ')}`);
  const wanted = values.entity as unknown as string[] | undefined;
  const unknown = (wanted ?? []).filter((name) => !loaded.catalog.entities.has(name));
  if (unknown.length > 0) throw new TectonicError('USAGE', `no entity ${unknown.join(', ')} in ${dir} (it has ${[...loaded.catalog.entities.keys()].join(', ')})`);
  const text = catalogDocs(loaded.catalog, { entities: wanted });
  if (typeof values.out === 'string') await writeFile(resolve(io.cwd, values.out), text);
  else io.out(text);
  return EXIT.ok;
}

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
