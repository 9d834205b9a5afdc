#!/usr/bin/env node
// Plain JS on purpose: it must run on any Node to say clearly which Node provenant needs.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 22)) {
  process.stderr.write(
    `provenant: Node ${process.versions.node} is too old (E_NODE_VERSION). ` +
      'Node 22.22+ or 24 LTS is required; inside this checkout use `npx provenant`, which runs the bundled Node 24.\n',
  );
  process.exit(2);
}
// Compiled code is cached between runs (in the OS temp dir): a host running one download per
// process should not pay for compiling the verifier every time.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
const { exitQuietlyOnClosedPipes } = await import('../src/cli/output.ts');
exitQuietlyOnClosedPipes();
process.exitCode = await main(process.argv.slice(2));
