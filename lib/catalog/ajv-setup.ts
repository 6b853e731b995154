import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { dateTimeFormat } from './date-time-format';
import { linearRegExpEngine } from '../linear-regex';

/**
 * The one ajv configuration the catalog uses. The official test suite runs
 * through this same function, so what it proves holds for catalog schemas.
 *
 * - `allErrors`: a technician fixing a record wants every problem at once,
 *   not one per round trip.
 * - `strict: false`: catalog schemas may carry annotations (x-pii, examples)
 *   that strict mode refuses; keyword typos are the loader's concern.
 * - `code.regExp`: `pattern` and `patternProperties` run on RE2
 *   (lib/linear-regex.ts), so a schema from the bus cannot freeze the site
 *   with a backtracking pattern (issue 20); a pattern RE2 cannot run makes
 *   the schema fail to compile.
 * - ajv-formats in "full" mode: date-time, email and uuid are assertions for
 *   the CDM, not annotations (draft 2020-12 leaves that choice to the tool).
 */
export function createCatalogAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, allowUnionTypes: true, validateFormats: true, code: { regExp: linearRegExpEngine } });
  addFormats(ajv, { mode: 'full' });
  // The same answers as ajv-formats, sooner for the timestamps the pack writes (date-time-format.ts).
  ajv.addFormat('date-time', dateTimeFormat);
  return ajv;
}
