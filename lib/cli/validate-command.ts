import { compileCatalogValidators } from '../catalog/catalog-validators';
import type { RecordValidation } from '../catalog/catalog-validators';
import { loadCatalogArgument, parseCommandArgs, parseRecords, readText } from './cli-input';
import { EXIT } from './cli-types';
import { TectonicError } from '../errors';
import type { CliCommand } from './cli-types';
import { formatReason, json } from './reason-format';

export const validateCommand: CliCommand = {
  name: 'validate',
  summary: 'validate canonical records against ENTITY@VERSION of a catalog',
  usage: `tectonic validate ENTITY@VERSION FILE --catalog DIR [--json]
  FILE: JSON records, one per line or a JSON array ("-" reads standard input)
  exit 0 every record is valid, 1 at least one is not, 2 usage or input error`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { catalog: { type: 'string' }, json: { type: 'boolean' } });
    const [target, file, ...extra] = positionals;
    if (target === undefined || file === undefined || extra.length > 0) throw new TectonicError('USAGE', 'give ENTITY@VERSION and one FILE');
    const at = target.lastIndexOf('@');
    const entity = target.slice(0, at);
    const version = target.slice(at + 1);
    if (at <= 0 || version === '') throw new TectonicError('USAGE', `"${target}" is not ENTITY@VERSION`);
    if (typeof values.catalog !== 'string') throw new TectonicError('USAGE', '--catalog DIR is required');

    const loaded = await loadCatalogArgument(values.catalog, io);
    if (!loaded.ok) throw new TectonicError('USAGE', `the catalog ${values.catalog} does not load:\n${loaded.reasons.map((r) => formatReason(r)).join('\n')}`);
    const compiled = compileCatalogValidators(loaded.catalog);
    if (!compiled.ok) throw new TectonicError('USAGE', `the catalog ${values.catalog} does not compile:\n${compiled.reasons.map((r) => formatReason(r)).join('\n')}`);
    const { validators } = compiled;
    const deprecation = validators.deprecation(entity, version);
    if (!deprecation) {
      const probe = validators.validateRecord(entity, version, null);
      throw new TectonicError('USAGE', probe.ok ? `unknown ${target}` : (probe.reasons[0]?.message ?? `unknown ${target}`));
    }
    const records = parseRecords(await readText(file, io), file);
    const verdicts = records.map((record, index): { index: number } & RecordValidation => ({ index, ...validators.validateRecord(entity, version, record) }));
    const valid = verdicts.every((v) => v.ok);

    if (values.json === true) {
      io.out(json({ valid, entity, version, deprecation, records: verdicts }));
    } else {
      if (deprecation.deprecated) {
        io.err(`warning: ${target} is deprecated${deprecation.sunset ? `, sunset ${deprecation.sunset}${deprecation.pastSunset ? ' (passed: sites reject it)' : ''}` : ''}${deprecation.note ? `: ${deprecation.note}` : ''}\n`);
      }
      for (const v of verdicts) {
        io.out(v.ok ? `#${v.index + 1} valid\n` : `#${v.index + 1} invalid\n${v.reasons.map((r) => formatReason(r)).join('\n')}\n`);
      }
      io.out(`${verdicts.filter((v) => v.ok).length} of ${verdicts.length} record(s) valid against ${target}\n`);
    }
    return valid ? EXIT.ok : EXIT.failed;
  },
};
