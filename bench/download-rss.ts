// Child process of bench/download.ts: one verified download, then its peak RSS. Run apart so
// the benchmark's own memory (it holds the synthetic wheel it published) is not counted.
import { readFileSync } from 'node:fs';
import { downloadWheel } from '../src/app/download.ts';

/**
 * Peak RSS in KiB. VmHWM, not getrusage's maxrss: Linux carries ru_maxrss across exec, so a
 * child of a big parent would report the parent's size.
 */
export function peakRssKib(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

if (import.meta.main) {
  const [project, version, repository, root, stateDir, dest] = process.argv.slice(2) as [string, string, string, string, string, string];
  const r = await downloadWheel({ project, version, repository, root, stateDir, dest, env: {} });
  process.stdout.write(`${JSON.stringify({ path: r.path, bytes: r.wheel.length, maxrss_kb: peakRssKib() })}\n`);
}
