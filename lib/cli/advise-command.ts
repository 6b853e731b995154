import { type Situation, advise, checkSituation } from '../advise/pattern-advice';
import { TectonicError } from '../errors';
import { parseCommandArgs } from './cli-input';
import { type CliCommand, type CliIo, EXIT } from './cli-types';
import { formatReason } from './reason-format';

const QUESTIONS: ReadonlyArray<[keyof Situation, string]> = [
  ['regulation', 'Regulatory pressure, 1 (little) to 5 (heavily regulated)'],
  ['diversity', 'Site diversity: how different the sites\' systems and formats are, 1 to 5'],
  ['velocity', 'Change velocity: how often requirements change, 1 (stable) to 5 (every few weeks)'],
  ['sites', 'Number of sites'],
];

/** Answers for the flags not given: asked one by one at a terminal, else read as lines from standard input. */
async function answers(missing: Array<[keyof Situation, string]>, io: CliIo): Promise<string[]> {
  if (io.ask !== undefined) {
    const given: string[] = [];
    for (const [, question] of missing) given.push((await io.ask(`${question}: `)) ?? '');
    return given;
  }
  const lines = (await io.readStdin()).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length < missing.length) {
    throw new TectonicError('USAGE', `give ${missing.map(([key]) => `--${key}`).join(', ')} (or their answers, one per line, on standard input)`);
  }
  return lines.slice(0, missing.length);
}

function number(text: string): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * `tectonic advise`: which integration pattern fits, from the decision table
 * in docs/advise.md (lib/advise/pattern-advice.ts), with its reasoning and
 * what in the pack serves the choice.
 */
export const adviseCommand: CliCommand = {
  name: 'advise',
  summary: 'which integration pattern fits: centralised, hybrid or distributed',
  usage: `tectonic advise [--regulation 1-5] [--diversity 1-5] [--velocity 1-5] [--sites N] [--json]
  asks for what the flags do not give (at a terminal; otherwise one answer per line on standard input)
  prints the pattern, the reasoning and what in the pack serves it; the decision table is in docs/advise.md
  --json: {"pattern":...,"total":N,"rule":N,"reasoning":[...],"packServes":[...]}
  exit 0 advice given, 2 usage or input error`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      regulation: { type: 'string' },
      diversity: { type: 'string' },
      velocity: { type: 'string' },
      sites: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new TectonicError('USAGE', `unexpected argument "${positionals[0]}"`);
    const situation: Partial<Record<keyof Situation, number>> = {};
    const missing: Array<[keyof Situation, string]> = [];
    for (const question of QUESTIONS) {
      const given = values[question[0]];
      if (typeof given === 'string') situation[question[0]] = number(given);
      else missing.push(question);
    }
    if (missing.length > 0) {
      const given = await answers(missing, io);
      missing.forEach(([key], i) => (situation[key] = number(given[i] ?? '')));
    }
    const checked = checkSituation(situation);
    if (!checked.ok) throw new TectonicError('USAGE', checked.reasons.map((r) => formatReason(r).trim()).join('\n'));
    const advice = advise(checked.value);
    if (values.json === true) {
      io.out(`${JSON.stringify(advice)}\n`);
      return EXIT.ok;
    }
    io.out(
      [
        `Pattern: ${advice.pattern} (decision table row ${advice.rule}, docs/advise.md)`,
        '',
        'Why:',
        ...advice.reasoning.map((line) => `  - ${line}`),
        '',
        'What in the pack serves it:',
        ...advice.packServes.map((line) => `  - ${line}`),
        '',
      ].join('\n'),
    );
    return EXIT.ok;
  },
};
