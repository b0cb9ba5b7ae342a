/**
 * The browser half of the benchmark (bundled by `browser.bench.ts`): both Parley backends,
 * interleaved, in the page. No libsignal here: its Rust core has no browser build.
 */
import { activeCryptoBackend, setCryptoBackend } from '../src/backend.ts';
import { formatTable, parley, runAll } from './cases.ts';

declare global {
  interface Window {
    runBench(rounds: number): Promise<string>;
  }
}

window.runBench = async (rounds: number) => {
  setCryptoBackend('auto');
  const detected = await activeCryptoBackend();
  const impls = [parley('noble', 'noble'), parley('webcrypto', 'webcrypto')];
  const rows = await runAll(impls, rounds);
  return (
    `${navigator.userAgent}; 'auto' picks ${detected}; ${rounds} interleaved rounds; ops/s, then time per op ×noble (lower is better)\n\n` +
    formatTable(rows, ['webcrypto', 'noble'], 'noble')
  );
};
