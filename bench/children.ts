// Every process the bench starts (servers, wrk) is tracked, so that Ctrl-C or SIGTERM ends them too
// instead of leaving a server listening or wrk loading a port after the bench is gone.

import type { ChildProcess } from 'node:child_process';

const liveChildren = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];

export function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.on('exit', () => liveChildren.delete(child));
}

/** Runs `cleanup` (e.g. removing temp files) when the bench is interrupted. */
export function onInterrupt(cleanup: () => void): void {
  cleanups.push(cleanup);
}

export function stopChildrenOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      for (const child of liveChildren) child.kill('SIGKILL');
      for (const cleanup of cleanups) cleanup();
      process.exit(130);
    });
  }
}
