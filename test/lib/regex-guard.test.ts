// The one check for regexes from configuration: the shapes that backtrack
// without bound are refused, simple patterns pass.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { repeatsRepetition } from '../../lib/regex-guard';

const refused = ['^(a+)+$', '(\\w*\\s?)*x', '^(a|a)*$', '^(.*a){12}$', '((ab)*c)+', '(?:x+y)+', '(a{2,})*'];
const allowed = ['^SHP-(\\d+)$', '^(SHP|PKG)-\\d{4}$', '(ab)+', '(a+)?', '[(a+)+]', '\\(a+\\)+', '^(?<id>\\d+)-(\\w+)$', '(a|b)?c'];

describe('repeatsRepetition', () => {
  for (const pattern of refused) it(`refuses ${pattern}`, () => assert.equal(repeatsRepetition(pattern), true));
  for (const pattern of allowed) it(`allows ${pattern}`, () => assert.equal(repeatsRepetition(pattern), false));
});
