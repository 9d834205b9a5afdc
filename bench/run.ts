// `npm run bench`: every benchmark against its peer tool, same input, same run; prints tables.
import type { Benchmark } from './table.ts';
import { formatTable } from './table.ts';
import { s3Benchmark } from './s3.ts';
import { buildBenchmark } from './build.ts';
import { buildTreeBenchmark } from './build-tree.ts';
import { downloadBenchmark } from './download.ts';
import { downloaderBinaryBenchmark } from './downloader-binary.ts';
import { publishBenchmark } from './publish.ts';
import { publishScaleBenchmark } from './publish-scale.ts';
import { metadataBytesBenchmark } from './metadata-bytes.ts';

const benchmarks: Benchmark[] = [
  s3Benchmark,
  buildBenchmark,
  buildTreeBenchmark,
  downloadBenchmark,
  downloaderBinaryBenchmark,
  publishBenchmark,
  publishScaleBenchmark,
  metadataBytesBenchmark,
];

const only = process.argv.slice(2);
const unknown = only.filter((n) => !benchmarks.some((b) => b.name === n));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; choose from ${benchmarks.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}
for (const b of benchmarks) {
  if (only.length > 0 && !only.includes(b.name)) continue;
  process.stderr.write(`bench: ${b.name}…\n`);
  for (const table of await b.run()) process.stdout.write(`${formatTable(table)}\n\n`);
}
