// `parley --help` start-up, as an installed user meets it: the built bundle (dist/parley.js)
// against a bare `node -e ""` start measured in the same rounds, and against the workspace's
// tsx entry (what the CLI ran before it was built). Wall time, and the child's own CPU time
// (process.cpuUsage at exit, printed by a preloaded hook) since the machine may be shared.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROUNDS = 7;
const dir = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${dir}/dist/parley.js`)) {
  spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, stdio: 'inherit' });
}
const hook =
  'data:text/javascript,' +
  encodeURIComponent(
    'process.on("exit",()=>{const u=process.cpuUsage();process.stderr.write("\\nCPU_US:"+(u.user+u.system)+"\\n")})',
  );
const cases = {
  'node -e ""': ['-e', ''],
  'parley --help (built)': ['dist/parley.js', '--help'],
  'parley --help (tsx, workspace)': ['bin/parley.js', '--help'],
};

function once(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', hook, ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const cpu = /CPU_US:(\d+)/.exec(r.stderr);
  return { wallMs, cpuMs: cpu ? Number(cpu[1]) / 1000 : NaN };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, args] of Object.entries(cases)) results[name].push(once(args));
}
const base = results['node -e ""'];
console.log(
  `\nparley start-up, ${ROUNDS} rounds (median; ratio to a bare node start: median of per-round ratios, min–max)`,
);
for (const [name, runs] of Object.entries(results)) {
  const ratios = runs.map((r, i) => r.wallMs / base[i].wallMs);
  const cpuRatios = runs.map((r, i) => r.cpuMs / base[i].cpuMs);
  console.log(
    `${name.padEnd(32)} wall ${median(runs.map((r) => r.wallMs))
      .toFixed(0)
      .padStart(5)} ms` +
      ` (${median(ratios).toFixed(2)}x, ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` +
      `  cpu ${median(runs.map((r) => r.cpuMs))
        .toFixed(0)
        .padStart(5)} ms` +
      ` (${median(cpuRatios).toFixed(2)}x, ${Math.min(...cpuRatios).toFixed(2)}–${Math.max(...cpuRatios).toFixed(2)})`,
  );
}
