/**
 * Background work of a process: the ledger sequencer and checkpointer (its
 * own loop), the witness cosigning loops, the contract expiry sweep, the sweep of download releases whose
 * token ran out unused, and the clean-up of expired token ids.
 * Errors are logged and retried on the next tick (e.g. during a database outage).
 */
import type { Logger } from 'pino';
import type { Services } from './services.js';

/** How often the expiry sweep and token clean-up run. */
export const SWEEP_INTERVAL_MS = 5_000;

/** Start every background loop; stop() waits for them to finish. */
export function startBackgroundWork(services: Services, logger: Logger): { stop(): Promise<void> } {
  const ledgerLoop = services.ledger.start(logger);
  const witnessLoop = services.witnessing.start(logger);
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = (async () => {
      try {
        const expired = await services.contracts.expireDue();
        if (expired > 0) logger.info({ expired }, 'contracts expired');
        const releases = await services.jobLifecycle.expireUnusedReleases();
        if (releases > 0) logger.info({ releases }, 'unused releases expired');
        await services.participants.purgeExpiredTokens();
      } catch (err) {
        logger.warn({ err }, 'sweep failed; retrying next tick');
      }
    })();
  }, SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
      await witnessLoop.stop();
      await ledgerLoop.stop();
    },
  };
}
