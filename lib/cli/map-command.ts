import { compileMappingSpec } from '../mapping/compile';
import type { MapResult } from '../mapping/compile';
import { parseCommandArgs, parseRecords, readJsonOrYamlFile, readText } from './cli-input';
import { EXIT } from './cli-types';
import { TectonicError } from '../errors';
import type { CliCommand } from './cli-types';
import { formatReason } from './reason-format';

/**
 * `tectonic map`: a mapping spec applied outside Node-RED, by the same
 * compiler cdm-map uses, so the central team's CI and a site trying a spec
 * see exactly what the node would send. One output line per input record, in
 * order, so the output lines up with the input.
 */
export const mapCommand: CliCommand = {
  name: 'map',
  summary: 'apply a mapping spec to local records, print canonical records or reasons',
  usage: `tectonic map --spec FILE [RECORDS] [--json]
  FILE: the mapping spec, JSON, or YAML when it ends in .yaml or .yml
  RECORDS: JSON records, one per line or a JSON array; standard input when absent or "-"
  prints one line per record: the canonical record as JSON, or "#N refused:" and its reasons
  --json: one JSON object per line instead: {"record":N,"ok":true,"value":{...}} or {"record":N,"ok":false,"reasons":[...]}
  exit 0 every record mapped, 1 at least one refused, 2 usage or input error (a spec that does not compile)`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { spec: { type: 'string' }, json: { type: 'boolean' } });
    if (typeof values.spec !== 'string') throw new TectonicError('USAGE', '--spec FILE is required');
    if (positionals.length > 1) throw new TectonicError('USAGE', 'give at most one RECORDS file');
    const file = positionals[0] ?? '-';

    const compiled = compileMappingSpec(await readJsonOrYamlFile(values.spec, io));
    if (!compiled.ok) throw new TectonicError('USAGE', `the spec ${values.spec} does not compile:\n${compiled.reasons.map((r) => formatReason(r)).join('\n')}`);
    const mapping = compiled.value;
    const records = parseRecords(await readText(file, io), file === '-' ? 'standard input' : file);

    let mapped = 0;
    for (const [index, record] of records.entries()) {
      // One record at a time: the output order is the input order, and a spec
      // with expressions does not hold every record's promise at once.
      const result: MapResult = await mapping.map(record);
      if (result.ok) mapped += 1;
      if (values.json === true) {
        io.out(`${JSON.stringify(result.ok ? { record: index + 1, ok: true, value: result.value } : { record: index + 1, ok: false, reasons: result.reasons })}\n`);
      } else {
        io.out(result.ok ? `${JSON.stringify(result.value)}\n` : `#${index + 1} refused: ${result.reasons.map((r) => formatReason(r).trim()).join(' | ')}\n`);
      }
    }
    if (values.json !== true) io.err(`${mapped} of ${records.length} record(s) mapped to ${mapping.entity}@${mapping.version}\n`);
    return mapped === records.length ? EXIT.ok : EXIT.failed;
  },
};
