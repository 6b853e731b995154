// Loaded by mocha before any test file (.mocharc.json). should extends
// Object.prototype when it loads; loading it here, once, before every file
// means tests that snapshot Object.prototype see the same prototype at load
// and at run time, whichever files run. Its deep equality is set to be as
// strict as node:assert/strict's deepEqual, so no assertion moved to should
// is weaker than it was.
import should from 'should';

// should's type declarations leave out its config object.
const { config } = should as unknown as { config: { checkProtoEql: boolean; plusZeroAndMinusZeroEqual: boolean } };
config.checkProtoEql = true;
config.plusZeroAndMinusZeroEqual = false;
