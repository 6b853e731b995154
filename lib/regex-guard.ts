/**
 * Policy conditions' `matches` run inside cel-js, on JavaScript's
 * backtracking engine, so a hostile pattern can hold the event loop for
 * seconds on a short input. (Schema patterns, mapping regex rules and
 * JSONata regexes run on RE2 instead: lib/linear-regex.ts.) This check refuses the shapes that
 * backtrack without bound: a repeated group that itself repeats or
 * alternates (`(a+)+`, `(\w*\s?)*`, `(a|a)*`, `(.*a){12}`). It is
 * conservative, not a proof, and refuses some safe patterns; configuration
 * needs simple ones, and the callers also cap the input's length.
 */
export function repeatsRepetition(pattern: string): boolean {
  // Inside-out: innermost groups first, remembering whether each contained a quantifier or |.
  const stack: boolean[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      // Skip a character class; its contents are not quantifiers.
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      continue;
    }
    if (c === '(') stack.push(false);
    else if (c === ')') {
      const inner = stack.pop() ?? false;
      const next = pattern[i + 1];
      // `?` after a group makes it optional, not repeated: it only marks the enclosing group.
      const quantified = next === '*' || next === '+' || next === '?' || next === '{';
      if (inner && quantified && next !== '?') return true;
      if (stack.length > 0 && (inner || quantified)) stack[stack.length - 1] = true;
    } else if ((c === '*' || c === '+' || c === '{' || c === '|') && stack.length > 0) stack[stack.length - 1] = true;
  }
  return false;
}
