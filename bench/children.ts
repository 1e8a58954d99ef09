/**
 * Every process the benchmark spawns is registered here, so that whatever
 * way the run ends (failure, Ctrl-C, a signal arriving while a child is
 * still starting) none is left running: the orderly cleanup stops them, and
 * an exit hook kills any that a race let through.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();

/** Registers a spawned child until it exits. */
export function trackChild<T extends ChildProcess>(child: T): T {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

process.once('exit', () => {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
