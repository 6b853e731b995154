// mocha's spec reporter, closed by one line in the form CI reads:
// "N passed, N failed" (", N skipped" when any test was skipped).
import Mocha from 'mocha';

class ClosingLineReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    // Registered after Spec's own handler, so the line comes after its epilogue.
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const stats = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      const skipped = stats.pending > 0 ? `, ${stats.pending} skipped` : '';
      process.stdout.write(`\n${stats.passes} passed, ${stats.failures} failed${skipped}\n`);
    });
  }
}

export = ClosingLineReporter;
