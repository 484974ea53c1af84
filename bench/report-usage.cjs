// Preloaded (`NODE_OPTIONS=--require …`) into the processes bench/cli.ts measures for CPU and memory: when the process
// exits, its own user and system CPU time (µs, `process.resourceUsage()`) and peak resident memory (KiB) go to the
// file BENCH_USAGE_FILE names. A process reports itself, so the figures are its own; `node -e 0` carries this preload
// too, so the ratios compare like with like. The peak is Linux's VmHWM (/proc/self/status): `resourceUsage().maxRSS`
// is no use here, as Linux carries the parent's peak over a fork and exec into it (every child of the bench
// reported the bench's own ~150 MiB).
/* global process */
'use strict';

const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on('exit', () => {
    const { userCPUTime, systemCPUTime } = process.resourceUsage();
    const fs = process.getBuiltinModule('node:fs');
    const peakKiB = Number(/^VmHWM:\s*(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1]);
    fs.writeFileSync(file, JSON.stringify({ userCPUTime, systemCPUTime, peakKiB }));
  });
}
