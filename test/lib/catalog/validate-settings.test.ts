// parseValidateSettings: cdm-validate's config in, its settings or the problem out, in the node's words.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { type ValidateConfig, type ValidateSettingsOutcome, parseValidateSettings } from '../../../lib/catalog/validate-settings';

const env: Record<string, string> = { CDM_ENTITY: ' shipment ', CDM_VERSION: '1.1.0', EMPTY: '' };
const read = (name: string): string | undefined => env[name];
const settings = (entity: string, version: string, castTo: string): ValidateSettingsOutcome => ({ ok: true, settings: { entity, version, castTo } });

describe('parseValidateSettings', () => {
  const cases: Array<[string, ValidateConfig, ValidateSettingsOutcome]> = [
    ['nothing fixed: the envelope decides', {}, settings('', '', '')],
    ['typed values, trimmed', { entity: ' shipment ', entityType: 'str', version: '1.1.0', castTo: '2.0.0 ' }, settings('shipment', '1.1.0', '2.0.0')],
    ['env values, trimmed', { entity: 'CDM_ENTITY', entityType: 'env', version: 'CDM_VERSION', versionType: 'env' }, settings('shipment', '1.1.0', '')],
    ['an env type with no name is an empty setting', { entity: ' ', entityType: 'env' }, settings('', '', '')],
    ['an env variable that is not set', { version: 'CDM_UNSET', versionType: 'env' }, { ok: false, problem: 'version: environment variable CDM_UNSET is not set' }],
    ['an env variable set empty', { castTo: 'EMPTY', castToType: 'env' }, { ok: false, problem: 'castTo: environment variable EMPTY is not set' }],
    ['the first unset one is named', { entity: 'A_UNSET', entityType: 'env', version: 'B_UNSET', versionType: 'env' }, { ok: false, problem: 'entity: environment variable A_UNSET is not set' }],
  ];
  for (const [name, config, expected] of cases) it(name, () => assert.deepEqual(parseValidateSettings(config, read), expected));

  it('takes a number from the env lookup as its text', () => {
    assert.deepEqual(parseValidateSettings({ version: 'V', versionType: 'env' }, () => 2 as unknown as string), settings('', '2', ''));
  });
});
