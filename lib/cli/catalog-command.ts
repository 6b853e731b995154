import { stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { catalogDigest, decodeCatalogBundle, shortDigest } from '../catalog/catalog-bundle';
import { checkCatalog } from '../catalog/catalog-check';
import { catalogDocs } from '../catalog/catalog-docs';
import { loadCatalogFromFiles, readCatalogFolder } from '../catalog/catalog-loader';
import { checkCatalogSequence, checkCatalogTrust, signCatalogFiles } from '../catalog/catalog-signing';
import { loadPrivateKey } from '../policy/signature';
import type { Reason } from '../reasons';
import { readText } from './cli-input';
import { readTrustedKeys, wholeNumber } from './policy-command';
import { compileCatalogValidators } from '../catalog/catalog-validators';
import { loadCatalogArgument, parseCommandArgs } from './cli-input';
import { EXIT } from './cli-types';
import { TectonicError } from '../errors';
import type { CliCommand, CliIo, ExitCode } from './cli-types';
import { formatReason, json } from './reason-format';

export const catalogCommand: CliCommand = {
  name: 'catalog',
  summary: 'CDM catalogs: check one (every entity history against its level), write its documentation, sign and verify its bundle',
  usage: `tectonic catalog check DIR [--lenient] [--json]
    exit 0 the catalog is sound, 1 it is not (with the reasons), 2 usage error or DIR is not a catalog
  tectonic catalog sign SOURCE --key KEY --sequence N [--out FILE] [--json]
    SOURCE: a catalog folder or a catalog bundle file (format 1 or 2); prints the signed
    bundle (format 2) as JSON, or writes FILE; exit 1 when the catalog does not load or compile
  tectonic catalog verify SIGNED --pub PUB... [--sequence-in-force N] [--json]
    exit 0 the bundle is signed by a trusted key (and not older than N), 1 it is not (with the reason)
  tectonic catalog docs DIR [--entity NAME]... [--out FILE]
    Markdown for site technicians: each entity's versions, standing and sunsets, each version's fields with an example
  --key: an Ed25519 private key (tectonic policy keygen); --pub may be repeated (key rotation)`,
  async run(args, io) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'check':
        return check(rest, io);
      case 'sign':
        return sign(rest, io);
      case 'verify':
        return verify(rest, io);
      case 'docs':
        return docs(rest, io);
      default:
        throw new TectonicError('USAGE', sub === undefined ? 'missing subcommand: check, docs, sign or verify' : `unknown subcommand "${sub}" (expected: check, docs, sign, verify)`);
    }
  },
};

/** A folder's files, or a bundle's (whatever its format; a signature it carries is replaced). */
async function readCatalogSource(source: string, io: CliIo): Promise<Map<string, string>> {
  const full = resolve(io.cwd, source);
  const isDir = await stat(full).then((s) => s.isDirectory(), () => false);
  if (isDir) {
    const read = await readCatalogFolder(full);
    if (!read.ok) throw new TectonicError('USAGE', `${source}: ${read.reasons.map((r) => r.message).join('; ')}`);
    return read.files;
  }
  const decoded = decodeCatalogBundle(await readText(source, io));
  if (!decoded.ok) throw new TectonicError('USAGE', `${source} is neither a catalog folder nor a catalog bundle: ${decoded.reasons.map((r) => `${r.rule}: ${r.message}`).join('; ')}`);
  return decoded.files;
}

async function sign(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(args, { key: { type: 'string' }, sequence: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } });
  const [source, ...extra] = positionals;
  if (source === undefined || extra.length > 0) throw new TectonicError('USAGE', 'give exactly one catalog folder or bundle');
  if (typeof values.key !== 'string') throw new TectonicError('USAGE', '--key KEY is required');
  const sequence = wholeNumber(values.sequence, '--sequence');
  if (sequence === undefined) throw new TectonicError('USAGE', '--sequence N is required (higher than the last catalog signed)');
  const key = loadPrivateKey(await readText(values.key, io));
  if (!key.ok) throw new TectonicError('USAGE', `${values.key} ${key.message}`);
  const files = await readCatalogSource(source, io);
  // Signing a catalog that sites would refuse only moves the failure to every site.
  const loaded = loadCatalogFromFiles(files);
  const compiled = loaded.ok ? compileCatalogValidators(loaded.catalog) : undefined;
  const problems: Reason[] = !loaded.ok ? loaded.reasons : compiled && !compiled.ok ? compiled.reasons : [];
  if (problems.length > 0) {
    if (values.json === true) io.out(json({ signed: false, reasons: problems }));
    else io.out(`NOT signed: ${source} is not a sound catalog, ${problems.length} problem(s):\n${problems.map((r) => formatReason(r)).join('\n')}\n`);
    return EXIT.failed;
  }
  const signed = signCatalogFiles(files, sequence, key.key);
  if (!signed.ok) throw new TectonicError('USAGE', signed.reason.message);
  if (typeof values.out !== 'string') {
    io.out(`${signed.text}\n`);
    return EXIT.ok;
  }
  try {
    await writeFile(resolve(io.cwd, values.out), `${signed.text}\n`);
  } catch (err) {
    throw new TectonicError('USAGE', `cannot write ${values.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  io.err(`signed catalog ${shortDigest(catalogDigest(files))} sequence ${sequence} with key ${key.keyId} -> ${values.out}\n`);
  return EXIT.ok;
}

async function verify(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs(args, { pub: { type: 'string', multiple: true }, 'sequence-in-force': { type: 'string' }, json: { type: 'boolean' } });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new TectonicError('USAGE', 'give exactly one SIGNED catalog bundle');
  const trustedKeys = await readTrustedKeys(values.pub, io);
  const inForce = wholeNumber(values['sequence-in-force'], '--sequence-in-force');
  const decoded = decodeCatalogBundle(await readText(file, io));
  let reasons: Reason[] = [];
  let found: { sequence: number; keyId: string; digest: string } | undefined;
  if (!decoded.ok) reasons = decoded.reasons;
  else {
    const trust = checkCatalogTrust(decoded, trustedKeys);
    if (!trust.ok) reasons = trust.reasons;
    else {
      found = { sequence: trust.sequence ?? 0, keyId: trust.keyId ?? '', digest: decoded.digest };
      const rollback = inForce === undefined ? undefined : checkCatalogSequence(found.sequence, decoded.digest, { sequence: inForce, digest: decoded.digest });
      if (rollback) reasons = [rollback];
    }
  }
  const valid = reasons.length === 0 && found !== undefined;
  if (values.json === true) io.out(json(valid ? { valid, ...found } : { valid, reasons }));
  else if (valid && found) io.out(`valid: catalog ${shortDigest(found.digest)} sequence ${found.sequence}, signed with key ${found.keyId}\n`);
  else io.out(`NOT valid:\n${reasons.map((r) => formatReason(r)).join('\n')}\n`);
  return valid ? EXIT.ok : EXIT.failed;
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
