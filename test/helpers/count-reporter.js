'use strict';
// Ends every jest run with the plain line `N passed, N failed, N skipped`, which CI reads: a run
// that executed no test shows up as `0 passed, 0 failed`. Printed when the process exits, so it is
// the very last line, after jest's own summary.
class CountReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed, ${results.numPendingTests + results.numTodoTests} skipped`;
    process.once('exit', () => process.stdout.write(`\n${line}\n`));
  }
}
module.exports = CountReporter;
