/**
 * Mask paths: which parts of a record a `mask` rule touches.
 *
 *   patient.name            the member `name` of the member `patient`
 *   patient.ids[*].value    `value` of every element of the array `ids`
 *   patient.ids[0].value    `value` of the first element only
 *   items[*].*.sku          `sku` of every member of every element of `items`
 *   **.email                every member called `email`, at any depth
 *   ["odd.key"].x           a member whose name needs quoting (JSON string)
 *
 * `*` is every child of the value in hand (the members of an object, the
 * elements of an array); `[*]` is every element of an array and nothing
 * else; `**` is the value in hand and every value below it. A path that does
 * not meet its shape in a record (a missing member, a string where an object
 * was expected) masks nothing: checking shapes is cdm-validate's job, which
 * a bundle can require with `validation: required`.
 */
export type MaskStep =
  | { kind: 'member'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'elements' }
  | { kind: 'children' }
  | { kind: 'descendants' };

export const MASK_PATH_LIMITS = { maxLength: 256, maxSteps: 32 } as const;

// Bare member names: anything but the path's own punctuation and spaces.
const NAME = /^[^.[\]*"\s]+/;
// A key that is one bare name from end to end, which NAME would read back whole.
const BARE_NAME = /^[^.[\]*"\s]+$/;

export function parseMaskPath(text: string): { ok: true; steps: MaskStep[] } | { ok: false; message: string } {
  if (text.length === 0) return { ok: false, message: 'the path is empty' };
  if (text.length > MASK_PATH_LIMITS.maxLength) return { ok: false, message: `the path is longer than ${MASK_PATH_LIMITS.maxLength} characters` };
  const steps: MaskStep[] = [];
  let i = 0;
  let expectSegment = true; // at the start, or right after a dot
  while (i < text.length) {
    const rest = text.slice(i);
    if (rest.startsWith('[')) {
      const close = bracketEnd(text, i);
      if (close < 0) return { ok: false, message: `unclosed "[" at character ${i + 1}` };
      const inner = text.slice(i + 1, close);
      if (inner === '*') steps.push({ kind: 'elements' });
      else if (/^(0|[1-9][0-9]{0,8})$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (inner.startsWith('"')) {
        let name: unknown;
        try {
          name = JSON.parse(inner);
        } catch {
          name = undefined;
        }
        if (typeof name !== 'string' || name === '') return { ok: false, message: `${inner} at character ${i + 1} is not a quoted member name` };
        steps.push({ kind: 'member', name });
      } else return { ok: false, message: `"[${inner}]" at character ${i + 1} is not [*], an index or a quoted name` };
      i = close + 1;
      expectSegment = false;
      continue;
    }
    if (!expectSegment) {
      if (!rest.startsWith('.')) return { ok: false, message: `expected "." or "[" at character ${i + 1}` };
      i++;
      expectSegment = true;
      if (i === text.length) return { ok: false, message: 'the path ends with "."' };
      continue;
    }
    if (rest.startsWith('**')) {
      steps.push({ kind: 'descendants' });
      i += 2;
    } else if (rest.startsWith('*')) {
      steps.push({ kind: 'children' });
      i += 1;
    } else {
      const name = NAME.exec(rest)?.[0];
      if (name === undefined) return { ok: false, message: `expected a member name at character ${i + 1}` };
      steps.push({ kind: 'member', name });
      i += name.length;
    }
    expectSegment = false;
  }
  if (steps.length > MASK_PATH_LIMITS.maxSteps) return { ok: false, message: `the path has more than ${MASK_PATH_LIMITS.maxSteps} steps` };
  const last = steps.at(-1);
  if (last?.kind === 'descendants') return { ok: false, message: '"**" must be followed by what to mask below it, e.g. **.email' };
  return { ok: true, steps };
}

function bracketEnd(text: string, open: number): number {
  let inString = false;
  for (let j = open + 1; j < text.length; j++) {
    const c = text[j];
    if (inString) {
      if (c === '\\') j++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === ']') return j;
  }
  return -1;
}

/** The concrete place a mask touched, in the same syntax (`patient.ids[0].value`). */
export function formatConcretePath(keys: readonly (string | number)[]): string {
  let out = '';
  for (const key of keys) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (BARE_NAME.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}
