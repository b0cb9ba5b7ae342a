// Prints the closing line CI reads: "Tests: N passed, N failed, N skipped".
//
//   node scripts/test-summary.mjs <report.json>...
//
// Each report is Vitest's JSON reporter output or Playwright's; with several, the line is their
// sum, followed by each part. Exits 1 if a report is missing or unreadable, or one of them
// passed nothing (a suite that did not run is not a pass).
import { readFileSync } from 'node:fs';

/** Counts from one report, whichever runner wrote it. */
function counts(path) {
  let report;
  try {
    report = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return { name: path, error: `cannot read ${path}: ${err.message}` };
  }
  if (report.stats && report.config) {
    // Playwright: expected = passed, unexpected = failed; flaky ones passed on a retry.
    const s = report.stats;
    const errors = report.errors ?? [];
    for (const e of errors) console.log(`playwright: ${(e.message ?? '').split('\n')[0]}`);
    return {
      name: 'playwright',
      passed: (s.expected ?? 0) + (s.flaky ?? 0),
      failed: (s.unexpected ?? 0) + errors.length,
      skipped: s.skipped ?? 0,
    };
  }
  if (report.numFailedTestSuites > 0) {
    console.log(`${report.numFailedTestSuites} test file(s) failed to run`);
  }
  return {
    name: 'vitest',
    passed: report.numPassedTests ?? 0,
    failed: report.numFailedTests ?? 0,
    brokenFiles: report.numFailedTestSuites ?? 0,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
  };
}

const parts = process.argv.slice(2).map(counts);
if (parts.length === 0) {
  console.log('usage: node scripts/test-summary.mjs <report.json>...');
  process.exit(2);
}
let ok = true;
const total = { passed: 0, failed: 0, skipped: 0 };
for (const part of parts) {
  if (part.error) {
    console.log(part.error);
    total.failed += 1;
    ok = false;
    continue;
  }
  if (part.passed === 0 || part.brokenFiles > 0) ok = false;
  total.passed += part.passed;
  total.failed += part.failed;
  total.skipped += part.skipped;
}
const detail =
  parts.length > 1
    ? ` (${parts.map((p) => (p.error ? `${p.name}: no report` : `${p.name} ${p.passed}/${p.passed + p.failed}`)).join(', ')})`
    : '';
console.log(
  `Tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped${detail}`,
);
if (!ok || total.failed > 0) process.exit(1);
