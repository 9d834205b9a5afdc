import type { ChildProcess } from 'node:child_process';
import { freePort, stopChild } from './minio.ts';

export interface PeerProcess {
  child: ChildProcess;
  port: number;
  /** Stops the process (SIGTERM, then SIGKILL) and forgets the exit hook. */
  stop(): Promise<void>;
}

/**
 * Starts a peer server (MinIO, moto) on a free loopback port and waits until `ready` says it
 * serves. A free port can be taken between probing and the peer binding it: then it is retried on
 * another, 3 times. The process is killed if this process exits first; its last output is kept
 * for the error.
 */
export async function startPeerProcess(name: string, spawnAt: (port: number) => ChildProcess, ready: (port: number) => Promise<boolean>): Promise<PeerProcess> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawnAt(port);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    const killOnExit = () => child.kill('SIGKILL');
    process.on('exit', killOnExit);
    const stop = async () => {
      await stopChild(child);
      process.off('exit', killOnExit);
    };
    try {
      await waitReady(name, child, port, ready, () => output);
      return { child, port, stop };
    } catch (e) {
      lastError = e;
      await stop();
    }
  }
  throw new Error(`${name} did not start: ${String(lastError)}`);
}

async function waitReady(name: string, child: ChildProcess, port: number, ready: (port: number) => Promise<boolean>, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${name} ${exited}: ${output()}`);
    if (await ready(port).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} not ready on port ${port} after 30 s: ${output()}`);
}
