import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { filterCovers, filtersOverlap } from '../../../lib/broker/topic-filters';

describe('lib/broker/topic-filters', () => {
  const covers: [string, string, boolean][] = [
    ['#', 'a/b', true],
    ['#', '#', true],
    ['a/#', 'a', true],
    ['a/#', 'a/+/c', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/+', true],
    ['a/+', 'a/#', false],
    ['a/b', 'a/+', false],
    ['a/+/c', 'a/b/c/d', false],
    ['+/x', '$SYS/x', false],
    ['#', '$SYS/#', false],
    ['$SYS/#', '$SYS/broker', true],
    ['cdm/+/+/fra', '$share/g/cdm/x/v1/fra', true],
  ];
  for (const [outer, inner, expected] of covers) it(`${outer} ${expected ? 'covers' : 'does not cover'} ${inner}`, () => assert.equal(filterCovers(outer, inner), expected));
  const overlaps: [string, string, boolean][] = [
    ['cdm/+/+/muc', 'cdm/#', true],
    ['cdm/+/+/muc', 'cdm/a/v1/fra', false],
    ['a/+', '+/b', true],
    ['a/b', 'a/b/c', false],
    ['a/#', 'a', true],
    ['#', '$SYS/x', false],
  ];
  for (const [a, b, expected] of overlaps) it(`${a} and ${b} ${expected ? 'overlap' : 'do not overlap'}`, () => assert.equal(filtersOverlap(a, b), expected));
});
