/**
 * A fixed lane for one hot request: the same middleware and handler the
 * router would run for it, in the same order, called one after another
 * without the router's search. Express tries every earlier layer's pattern on
 * every request (parseurl, path matching, layer and route dispatch): for the
 * job authorization that was about 8 % of the service's CPU (README,
 * "Performance"). Requests the lane does not match exactly (another method,
 * a query string, a trailing slash, other letter case) take the router,
 * which runs the same handlers, so the lane changes cost, never behaviour.
 *
 * Errors go to next(err): from the lane's layer, Express skips to the app's
 * error handler (problem.ts), as it does from any other layer.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** The metric route label of a request served by a lane (metrics.ts reads it when req.route is unset). */
export const LANE_ROUTE = 'laneRoute';

/** Middleware: for requests with exactly this method and URL, run handlers in order; others go on to the router. */
export function fixedLane(method: string, url: string, route: string, handlers: RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== method || req.url !== url) {
      next();
      return;
    }
    res.locals[LANE_ROUTE] = route;
    let i = 0;
    let failed = false;
    // As Express's Layer: a handler goes on with next(), fails with next(err), a throw or a rejected promise.
    const step = (err?: unknown): void => {
      if (failed) return;
      if (err !== undefined && err !== null) {
        failed = true;
        next(err);
        return;
      }
      const handler = handlers[i++];
      // The last handler answers; one that calls next() instead is a wiring fault, not a fall-through to the router.
      if (!handler) {
        step(new Error(`fixed lane ${method} ${url}: the last handler called next()`));
        return;
      }
      try {
        const ret: unknown = handler(req, res, step);
        if (ret instanceof Promise) ret.then(undefined, (e: unknown) => step(e ?? new Error('rejected promise')));
      } catch (e) {
        step(e);
      }
    };
    step();
  };
}
