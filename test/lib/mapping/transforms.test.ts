// One table per transform: input, options, and the exact canonical value or
// the reason (rule and message) a technician would read. Bad input is in
// every table: empty strings, null, grouped numbers, impossible dates,
// daylight-saving gaps, unknown codes, NaN/Infinity, huge strings.
import { describe, it } from 'mocha';
import { type Row, check, transformed } from './helpers';

const huge = 'x'.repeat(1_000_000);
const hugeDigits = '9'.repeat(100_000);

function table(name: string, rows: Row[]): void {
  describe(name, () => {
    for (const [label, transforms, input, expected] of rows) {
      it(label, async () => check(await transformed(transforms, input), expected, label));
    }
  });
}

table('number', [
  ['plain decimal text', [{ number: {} }], '12.5', { value: 12.5 }],
  ['a number passes', [{ number: {} }], 12, { value: 12 }],
  ['surrounding blanks are tolerated', [{ number: {} }], ' 7 ', { value: 7 }],
  ['sign and leading decimal mark', [{ number: {} }], '-.5', { value: -0.5 }],
  ['exponent', [{ number: {} }], '1.5e3', { value: 1500 }],
  ['empty string is a reason, not 0', [{ number: {} }], '', { rule: 'number', message: /^from "in": is an empty string, not a number$/ }],
  ['blank string is a reason', [{ number: {} }], '   ', { rule: 'number', message: /empty string/ }],
  ['null is a missing source', [{ number: {} }], null, { rule: 'missing', message: /^from "in": is null$/ }],
  ['grouping without a thousands option', [{ number: {} }], '1,234.5', { rule: 'number', message: /"1,234.5" is not a number \(digit grouping needs a "thousands" option/ }],
  ['grouping with thousands ","', [{ number: { thousands: ',' } }], '1,234,567.5', { value: 1234567.5 }],
  ['European decimal comma', [{ number: { decimal: ',' } }], '12,5', { value: 12.5 }],
  ['European grouping', [{ number: { decimal: ',', thousands: '.' } }], '1.234,5', { value: 1234.5 }],
  ['European grouping without the option', [{ number: { decimal: ',' } }], '1.234,5', { rule: 'number', message: /is not a number/ }],
  ['bad grouping (1,5 with thousands ",")', [{ number: { thousands: ',' } }], '1,5', { rule: 'number', message: /is not a number/ }],
  ['Swiss apostrophe grouping', [{ number: { thousands: "'" } }], "1'000", { value: 1000 }],
  ['NaN', [{ number: {} }], Number.NaN, { rule: 'number', message: /NaN is not a finite number/ }],
  ['Infinity', [{ number: {} }], Number.POSITIVE_INFINITY, { rule: 'number', message: /Infinity is not a finite number/ }],
  ['the text "Infinity"', [{ number: {} }], 'Infinity', { rule: 'number', message: /is not a number/ }],
  ['hex text', [{ number: {} }], '0x10', { rule: 'number', message: /is not a number/ }],
  ['overflow', [{ number: {} }], '1e400', { rule: 'number', message: /out of range/ }],
  ['a boolean', [{ number: {} }], true, { rule: 'number', message: /got boolean/ }],
  ['huge text', [{ number: {} }], hugeDigits, { rule: 'number', message: /too long to be a number/ }],
]);

table('integer', [
  ['whole number text', [{ integer: {} }], '42', { value: 42 }],
  ['a zero fraction', [{ integer: {} }], '42.0', { value: 42 }],
  ['a fraction', [{ integer: {} }], '42.5', { rule: 'integer', message: /"42.5" is not a whole number/ }],
  ['beyond 2^53', [{ integer: {} }], '9007199254740993', { rule: 'integer', message: /too large/ }],
  ['European grouping', [{ integer: { decimal: ',', thousands: '.' } }], '1.000', { value: 1000 }],
  ['empty', [{ integer: {} }], '', { rule: 'integer', message: /empty string/ }],
]);

table('string', [
  ['text stays', [{ string: {} }], 'x', { value: 'x' }],
  ['a number', [{ string: {} }], 12.5, { value: '12.5' }],
  ['a boolean', [{ string: {} }], false, { value: 'false' }],
  ['an object', [{ string: {} }], { a: 1 }, { rule: 'string', message: /got object/ }],
  ['NaN', [{ string: {} }], Number.NaN, { rule: 'string', message: /NaN/ }],
]);

table('boolean', [
  ['yes', [{ boolean: {} }], 'yes', { value: true }],
  ['No, any case', [{ boolean: {} }], 'No', { value: false }],
  ['" 1 "', [{ boolean: {} }], ' 1 ', { value: true }],
  ['the number 0', [{ boolean: {} }], 0, { value: false }],
  ['a boolean', [{ boolean: {} }], true, { value: true }],
  ['the number 2', [{ boolean: {} }], 2, { rule: 'boolean', message: /2 is not true\/yes\/1 or false\/no\/0/ }],
  ['maybe', [{ boolean: {} }], 'maybe', { rule: 'boolean', message: /"maybe" is not/ }],
  ['empty', [{ boolean: {} }], '', { rule: 'boolean', message: /"" is not/ }],
  ['configured words', [{ boolean: { true: ['J', 'ja'], false: ['N', 'nein'] } }], 'j', { value: true }],
  ['configured words replace the default', [{ boolean: { true: ['J'], false: ['N'] } }], 'yes', { rule: 'boolean', message: /"yes" is not j or n/ }],
]);

table('trim, upper, lower', [
  ['trim', [{ trim: {} }], '  a b \t', { value: 'a b' }],
  ['upper, locale-independent', [{ upper: {} }], 'straße i', { value: 'STRASSE I' }],
  ['lower', [{ lower: {} }], 'ÄB', { value: 'äb' }],
  ['trim then upper', [{ trim: {} }, { upper: {} }], ' dhl ', { value: 'DHL' }],
  ['a number is not text', [{ trim: {} }], 5, { rule: 'trim', message: /expects text, got number/ }],
  ['trim leaves an empty string', [{ trim: {} }], '   ', { value: '' }],
]);

const berlin = { format: 'dd/MM/yyyy HH:mm', zone: 'Europe/Berlin' };
table('date', [
  ['winter time, Berlin', [{ date: berlin }], '24/11/2026 08:00', { value: '2026-11-24T07:00:00.000Z' }],
  ['summer time, Berlin', [{ date: berlin }], '24/06/2026 08:00', { value: '2026-06-24T06:00:00.000Z' }],
  ['impossible date 31/02', [{ date: berlin }], '31/02/2026 10:00', { rule: 'date', message: /"31\/02\/2026 10:00" is not a real date or time/ }],
  ['hour 25', [{ date: berlin }], '24/11/2026 25:00', { rule: 'date', message: /is not a real date or time/ }],
  ['24:00 is the end of the day (Luxon, as ISO 8601-1:2004)', [{ date: berlin }], '24/11/2026 24:00', { value: '2026-11-24T23:00:00.000Z' }],
  ['daylight-saving gap (02:30 on 29 March)', [{ date: berlin }], '29/03/2026 02:30', { rule: 'date', message: /"29\/03\/2026 02:30" does not exist in Europe\/Berlin/ }],
  ['repeated hour, default earlier (still summer time)', [{ date: berlin }], '25/10/2026 02:30', { value: '2026-10-25T00:30:00.000Z' }],
  ['repeated hour, later', [{ date: { ...berlin, ambiguous: 'later' } }], '25/10/2026 02:30', { value: '2026-10-25T01:30:00.000Z' }],
  ['repeated hour, reject', [{ date: { ...berlin, ambiguous: 'reject' } }], '25/10/2026 02:30', { rule: 'date', message: /happens twice in Europe\/Berlin/ }],
  ['New York, 12-hour clock', [{ date: { format: 'MM/dd/yyyy hh:mm a', zone: 'America/New_York' } }], '11/24/2026 02:00 AM', { value: '2026-11-24T07:00:00.000Z' }],
  ['New York gap', [{ date: { format: 'yyyy-MM-dd HH:mm', zone: 'America/New_York' } }], '2026-03-08 02:30', { rule: 'date', message: /does not exist in America\/New_York/ }],
  ['an offset in the text wins over zone', [{ date: { format: 'yyyy-MM-dd HH:mm ZZ', zone: 'Europe/Berlin' } }], '2026-11-24 08:00 +05:00', { value: '2026-11-24T03:00:00.000Z' }],
  ['month names in German', [{ date: { format: 'd. MMMM yyyy', zone: 'UTC', locale: 'de-DE' } }], '24. November 2026', { value: '2026-11-24T00:00:00.000Z' }],
  ['fixed offset zone', [{ date: { format: 'yyyyMMddHHmmss', zone: 'UTC+2' } }], '20261124090000', { value: '2026-11-24T07:00:00.000Z' }],
  ['empty string', [{ date: berlin }], '', { rule: 'date', message: /"" does not match the format "dd\/MM\/yyyy HH:mm"/ }],
  ['trailing blank', [{ date: berlin }], '24/11/2026 08:00 ', { rule: 'date', message: /does not match/ }],
  ['a number', [{ date: berlin }], 20261124, { rule: 'date', message: /expects text in format/ }],
  ['huge text', [{ date: berlin }], huge, { rule: 'date', message: /too long to be a date/ }],
  ['ISO with offset', [{ date: { iso: true } }], '2026-11-24T08:00:00+01:00', { value: '2026-11-24T07:00:00.000Z' }],
  ['ISO with Z and fraction', [{ date: { iso: true } }], '2026-11-24T07:00:00.5Z', { value: '2026-11-24T07:00:00.500Z' }],
  ['ISO local time with zone', [{ date: { iso: true, zone: 'Europe/Berlin' } }], '2026-11-24T08:00', { value: '2026-11-24T07:00:00.000Z' }],
  ['ISO date only with zone', [{ date: { iso: true, zone: 'Europe/Berlin' } }], '2026-11-24', { value: '2026-11-23T23:00:00.000Z' }],
  ['ISO local time without zone', [{ date: { iso: true } }], '2026-11-24T08:00', { rule: 'date', message: /has no offset and the rule names no "zone"/ }],
  ['ISO impossible date', [{ date: { iso: true } }], '2026-02-30T08:00Z', { rule: 'date', message: /is not an ISO 8601 date/ }],
  ['ISO in a gap', [{ date: { iso: true, zone: 'Europe/Berlin' } }], '2026-03-29T02:30:00', { rule: 'date', message: /does not exist/ }],
  ['epoch seconds', [{ date: { epoch: 's' } }], 1795503600, { value: '2026-11-24T07:00:00.000Z' }],
  ['epoch seconds as text', [{ date: { epoch: 's' } }], '1795503600', { value: '2026-11-24T07:00:00.000Z' }],
  ['epoch milliseconds', [{ date: { epoch: 'ms' } }], 1795503600250, { value: '2026-11-24T07:00:00.250Z' }],
  ['epoch out of range', [{ date: { epoch: 'ms' } }], 1e20, { rule: 'date', message: /outside the years 0000 to 9999/ }],
  ['epoch NaN', [{ date: { epoch: 's' } }], Number.NaN, { rule: 'date', message: /not a finite number/ }],
  ['epoch text that is not digits', [{ date: { epoch: 's' } }], '12:00', { rule: 'date', message: /expects a number of seconds/ }],
]);

// Issue 18: what `date` writes. The same instant (08:00 in Berlin on 24
// November 2026, 07:00:00.123 UTC) in every output form.
const berlinMs = { format: 'dd/MM/yyyy HH:mm:ss.SSS', zone: 'Europe/Berlin' };
const at = '24/11/2026 08:00:00.123';
table('date output', [
  ['default is iso with milliseconds', [{ date: berlinMs }], at, { value: '2026-11-24T07:00:00.123Z' }],
  ['iso, said', [{ date: { ...berlinMs, output: 'iso' } }], at, { value: '2026-11-24T07:00:00.123Z' }],
  ['iso-seconds cuts the milliseconds', [{ date: { ...berlinMs, output: 'iso-seconds' } }], at, { value: '2026-11-24T07:00:00Z' }],
  ['iso-seconds cuts, never rounds up', [{ date: { ...berlinMs, output: 'iso-seconds' } }], '24/11/2026 08:00:59.999', { value: '2026-11-24T07:00:59Z' }],
  ['iso-seconds before 1970 cuts toward the past', [{ date: { epoch: 'ms', output: 'iso-seconds' } }], -1, { value: '1969-12-31T23:59:59Z' }],
  ['date: the UTC calendar day', [{ date: { ...berlinMs, output: 'date' } }], at, { value: '2026-11-24' }],
  ['date: 00:30 in Berlin is still the day before in UTC', [{ date: { ...berlinMs, output: 'date' } }], '24/11/2026 00:30:00.000', { value: '2026-11-23' }],
  ['date in outputZone: the local day', [{ date: { ...berlinMs, output: 'date', outputZone: 'Europe/Berlin' } }], '24/11/2026 00:30:00.000', { value: '2026-11-24' }],
  ['iso in outputZone carries its offset', [{ date: { ...berlinMs, outputZone: 'Europe/Berlin' } }], at, { value: '2026-11-24T08:00:00.123+01:00' }],
  ['iso-seconds in outputZone, summer time', [{ date: { format: 'yyyy-MM-dd HH:mm', zone: 'UTC', output: 'iso-seconds', outputZone: 'Europe/Berlin' } }], '2026-06-24 06:00', { value: '2026-06-24T08:00:00+02:00' }],
  ['outputZone UTC keeps the Z', [{ date: { ...berlinMs, outputZone: 'UTC' } }], at, { value: '2026-11-24T07:00:00.123Z' }],
  ['epochMs: a number', [{ date: { ...berlinMs, output: 'epochMs' } }], at, { value: 1795503600123 }],
  ['epochMs from ISO text', [{ date: { iso: true, output: 'epochMs' } }], '2026-11-24T08:00:00+01:00', { value: 1795503600000 }],
  ['epoch seconds in, epochMs out', [{ date: { epoch: 's', output: 'epochMs' } }], '1795503600', { value: 1795503600000 }],
  ['a Luxon format, in UTC by default', [{ date: { iso: true, output: 'dd.MM.yyyy HH:mm' } }], '2026-11-24T08:00:00+01:00', { value: '24.11.2026 07:00' }],
  ['a Luxon format in outputZone', [{ date: { iso: true, output: 'dd.MM.yyyy HH:mm', outputZone: 'America/Chicago' } }], '2026-11-24T08:00:00+01:00', { value: '24.11.2026 01:00' }],
  ['a Luxon format with month names in the locale', [{ date: { format: 'yyyy-MM-dd', zone: 'UTC', locale: 'de-DE', output: 'd. MMMM yyyy' } }], '2026-03-05', { value: '5. März 2026' }],
  ['a Luxon format with a literal', [{ date: { epoch: 'ms', output: "yyyy-MM-dd'T'HH" } }], 1795503600000, { value: '2026-11-24T07' }],
  ['the input is still checked', [{ date: { ...berlinMs, output: 'date' } }], '31/02/2026 10:00:00.000', { rule: 'date', message: /is not a real date or time/ }],
  ['the range is still checked', [{ date: { epoch: 'ms', output: 'epochMs' } }], 1e20, { rule: 'date', message: /outside the years 0000 to 9999/ }],
  ['a chain after a date output', [{ date: { ...berlinMs, output: 'epochMs' } }, { string: {} }], at, { value: '1795503600123' }],
]);

table('mask', [
  ['keepAfter "@": the domain', [{ mask: { keepAfter: '@' } }], 'jane.doe@example.com', { value: '***@example.com' }],
  ['keepAfter: the last separator', [{ mask: { keepAfter: '@' } }], '"a@b"@example.com', { value: '***@example.com' }],
  ['keepAfter: a longer separator', [{ mask: { keepAfter: '://' } }], 'https://user:secret@host', { value: '***://user:secret@host' }],
  ['keepAfter: no separator hides it all', [{ mask: { keepAfter: '@' } }], 'jane.doe', { value: '***' }],
  ['keepAfter: an empty string', [{ mask: { keepAfter: '@' } }], '', { value: '***' }],
  ['keepAfter: the hidden length does not show', [{ mask: { keepAfter: '@' } }], 'a-much-longer-local-part@example.com', { value: '***@example.com' }],
  ['keep: the last characters', [{ mask: { keep: 4 } }], 'DE89370400440532013000', { value: '******************3000' }],
  ['keep: a short value is starred entirely', [{ mask: { keep: 4 } }], 'abc', { value: '***' }],
  ['a number is a reason', [{ mask: { keepAfter: '@' } }], 42, { rule: 'mask', message: /^from "in": expects text, got number$/ }],
  ['after lower', [{ lower: {} }, { mask: { keepAfter: '@' } }], 'Jane@Example.COM', { value: '***@example.com' }],
]);

const statusTable = { DLV: 'delivered', TRN: 'in_transit', 7: 'lost' };
table('lookup', [
  ['known code', [{ lookup: { table: statusTable } }], 'DLV', { value: 'delivered' }],
  ['unknown code, reject by default', [{ lookup: { table: statusTable } }], 'XYZ', { rule: 'lookup', message: /^from "in": unknown code "XYZ"$/ }],
  ['unknown code, keep', [{ lookup: { table: statusTable, otherwise: 'keep' } }], 'XYZ', { value: 'XYZ' }],
  ['unknown code, a value', [{ lookup: { table: statusTable, otherwise: { value: 'created' } } }], 'XYZ', { value: 'created' }],
  ['case matters by default', [{ lookup: { table: statusTable } }], 'dlv', { rule: 'lookup', message: /unknown code "dlv"/ }],
  ['ignoreCase', [{ lookup: { table: statusTable, ignoreCase: true } }], 'dlv', { value: 'delivered' }],
  ['a numeric code', [{ lookup: { table: statusTable } }], 7, { value: 'lost' }],
  ['"constructor" is not in the table', [{ lookup: { table: statusTable } }], 'constructor', { rule: 'lookup', message: /unknown code "constructor"/ }],
  ['"toString" is not in the table', [{ lookup: { table: statusTable } }], 'toString', { rule: 'lookup', message: /unknown code "toString"/ }],
  ['empty string', [{ lookup: { table: statusTable } }], '', { rule: 'lookup', message: /unknown code ""/ }],
  ['an object', [{ lookup: { table: statusTable } }], { code: 'DLV' }, { rule: 'lookup', message: /expects a code/ }],
  ['a table value null is a value', [{ lookup: { table: { N: null } } }], 'N', { value: null }],
]);

table('unit', [
  ['lb to kg, rounded', [{ unit: { from: 'lb', to: 'kg' } }, { round: 2 }], 10, { value: 4.54 }],
  ['lb to kg, exact factor', [{ unit: { from: 'lb', to: 'kg' } }], 1, { value: 0.45359237 }],
  ['g to kg divides exactly', [{ unit: { from: 'g', to: 'kg' } }], 1000, { value: 1 }],
  ['t to kg', [{ unit: { from: 't', to: 'kg' } }], 1.5, { value: 1500 }],
  ['oz to lb', [{ unit: { from: 'oz', to: 'lb' } }], 16, { value: 1 }],
  ['mg to g', [{ unit: { from: 'mg', to: 'g' } }], 2500, { value: 2.5 }],
  ['C to F', [{ unit: { from: 'C', to: 'F' } }], 100, { value: 212 }],
  ['F to C', [{ unit: { from: 'F', to: 'C' } }], 32, { value: 0 }],
  ['C to K', [{ unit: { from: 'C', to: 'K' } }], 0, { value: 273.15 }],
  ['in to cm, rounded', [{ unit: { from: 'in', to: 'cm' } }, { round: 2 }], 12, { value: 30.48 }],
  ['mi to km', [{ unit: { from: 'mi', to: 'km' } }], 1, { value: 1.609344 }],
  ['ft to m', [{ unit: { from: 'ft', to: 'm' } }], 10, { value: 3.048 }],
  ['km to m', [{ unit: { from: 'km', to: 'm' } }], 1.2, { value: 1200 }],
  ['US gallon to l', [{ unit: { from: 'gal', to: 'l' } }], 1, { value: 3.785411784 }],
  ['m3 to l', [{ unit: { from: 'm3', to: 'l' } }], 1, { value: 1000 }],
  ['ml to l', [{ unit: { from: 'ml', to: 'l' } }], 250, { value: 0.25 }],
  ['qt to gal', [{ unit: { from: 'qt', to: 'gal' } }], 4, { value: 1 }],
  ['text needs number first', [{ unit: { from: 'lb', to: 'kg' } }], '10', { rule: 'unit', message: /put \{ "number": \{\} \} first/ }],
  ['number then unit', [{ number: { decimal: ',' } }, { unit: { from: 'lb', to: 'kg' } }, { round: 3 }], '2,5', { value: 1.134 }],
  ['Infinity', [{ unit: { from: 'lb', to: 'kg' } }], Number.POSITIVE_INFINITY, { rule: 'unit', message: /not a finite number/ }],
]);

table('round', [
  ['2 decimals', [{ round: 2 }], 4.5359237, { value: 4.54 }],
  ['1.005 to 2 decimals is 1.01', [{ round: 2 }], 1.005, { value: 1.01 }],
  ['halves away from zero', [{ round: 0 }], 2.5, { value: 3 }],
  ['negative halves away from zero', [{ round: 0 }], -2.5, { value: -3 }],
  ['tiny numbers', [{ round: 2 }], 1e-7, { value: 0 }],
  ['large numbers keep their digits', [{ round: 3 }], 123456789.123456, { value: 123456789.123 }],
  ['beyond 2^53 unchanged', [{ round: 2 }], 1e300, { value: 1e300 }],
  ['object form', [{ round: { decimals: 1 } }], 0.05, { value: 0.1 }],
  ['text', [{ round: 2 }], '1.5', { rule: 'round', message: /expects a number, got string/ }],
  ['Infinity', [{ round: 2 }], Number.NEGATIVE_INFINITY, { rule: 'round', message: /-Infinity is not a finite number/ }],
]);

table('split', [
  ['one part by index', [{ split: { separator: ',', index: 1 } }], 'a,b,c', { value: 'b' }],
  ['negative index counts from the end', [{ split: { separator: ',', index: -1 } }], 'a,b,c', { value: 'c' }],
  ['all parts', [{ split: { separator: ';' } }], 'a;b', { value: ['a', 'b'] }],
  ['trimmed parts', [{ split: { separator: ',', trim: true } }], ' a , b ', { value: ['a', 'b'] }],
  ['index past the end', [{ split: { separator: ',', index: 5 } }], 'a,b', { rule: 'split', message: /has 2 part\(s\) separated by ",", so there is no part 5/ }],
  ['not text', [{ split: { separator: ',' } }], 12, { rule: 'split', message: /expects text/ }],
]);

table('regex', [
  ['group 1 by default', [{ regex: { pattern: '^SHP-(\\d+)$' } }], 'SHP-42', { value: '42' }],
  ['the whole match', [{ regex: { pattern: '^SHP-(\\d+)$', group: 0 } }], 'SHP-42', { value: 'SHP-42' }],
  ['no group: the whole match', [{ regex: { pattern: '\\d+' } }], 'abc 123 def', { value: '123' }],
  ['a named group', [{ regex: { pattern: '(?<site>[A-Z]{3})-(?<no>\\d+)', group: 'no' } }], 'FRA-77', { value: '77' }],
  ['case-insensitive', [{ regex: { pattern: '^shp-(\\d+)$', flags: 'i' } }], 'SHP-42', { value: '42' }],
  ['no match', [{ regex: { pattern: '^SHP-(\\d+)$' } }], 'ORD-42', { rule: 'regex', message: /"ORD-42" does not match \/\^SHP-\(\\d\+\)\$\// }],
  ['optional group that took no part', [{ regex: { pattern: '^A(\\d+)?$' } }], 'A', { rule: 'regex', message: /took no part/ }],
  ['input over the cap', [{ regex: { pattern: 'x' } }], huge, { rule: 'regex', message: /longer than 10000 characters/ }],
  ['a number', [{ regex: { pattern: '\\d' } }], 5, { rule: 'regex', message: /expects text/ }],
]);

table('array with each.transforms', [
  ['every element', [{ array: { each: { transforms: [{ trim: {} }, { upper: {} }] } } }], [' a', 'b '], { value: ['A', 'B'] }],
  ['an empty array', [{ array: { each: { transforms: [{ upper: {} }] } } }], [], { value: [] }],
  ['not an array', [{ array: { each: { transforms: [{ upper: {} }] } } }], 'a', { rule: 'array', message: /expects an array, got string/ }],
  ['more elements than max', [{ array: { each: { transforms: [{ upper: {} }] }, max: 2 } }], ['a', 'b', 'c'], { rule: 'array', message: /has 3 elements, more than the 2/ }],
]);
