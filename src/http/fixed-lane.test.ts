import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { LANE_ROUTE, fixedLane } from './fixed-lane.js';

function run(lane: RequestHandler, method: string, url: string): Promise<{ nextArgs: unknown[]; res: Response }> {
  const res = { locals: {} } as unknown as Response;
  return new Promise((resolve) => {
    const next: NextFunction = (...args: unknown[]) => resolve({ nextArgs: args, res });
    void lane({ method, url } as Request, res, next);
    // A lane that answers never calls next: resolve after the handlers had their turn.
    setTimeout(() => resolve({ nextArgs: ['(answered)'], res }), 20);
  });
}

describe('fixedLane', () => {
  const order: string[] = [];
  const step = (name: string): RequestHandler => (_req, _res, next) => {
    order.push(name);
    next();
  };
  const answer: RequestHandler = () => {
    order.push('answer');
  };
  beforeEach(() => order.splice(0));

  it('runs its handlers in order for exactly its method and URL, and names the route', async () => {
    const { nextArgs, res } = await run(fixedLane('POST', '/v1/jobs', '/v1/jobs', [step('a'), step('b'), answer]), 'POST', '/v1/jobs');
    expect(order).toEqual(['a', 'b', 'answer']);
    expect(nextArgs).toEqual(['(answered)']);
    expect(res.locals[LANE_ROUTE]).toBe('/v1/jobs');
  });

  it.each([['GET', '/v1/jobs'], ['POST', '/v1/jobs/'], ['POST', '/v1/jobs?x=1'], ['POST', '/V1/JOBS']])('leaves %s %s to the router', async (method, url) => {
    const { nextArgs, res } = await run(fixedLane('POST', '/v1/jobs', '/v1/jobs', [step('a'), answer]), method, url);
    expect(order).toEqual([]);
    expect(nextArgs).toEqual([]);
    expect(res.locals[LANE_ROUTE]).toBeUndefined();
  });

  const boom = new Error('boom');
  it.each<[string, RequestHandler]>([
    ['a throw', () => { throw boom; }],
    ['a rejected promise', async () => { throw boom; }],
    ['next(err)', (_req, _res, next) => next(boom)],
  ])('hands %s to next once and runs no later handler', async (_what, failing) => {
    const { nextArgs } = await run(fixedLane('POST', '/v1/jobs', '/v1/jobs', [step('a'), failing, step('c'), answer]), 'POST', '/v1/jobs');
    expect(nextArgs).toEqual([boom]);
    expect(order).toEqual(['a']);
  });

  it('treats a last handler that calls next() as a fault, not a fall-through', async () => {
    const { nextArgs } = await run(fixedLane('POST', '/v1/jobs', '/v1/jobs', [step('a')]), 'POST', '/v1/jobs');
    expect(nextArgs).toHaveLength(1);
    expect(String(nextArgs[0])).toMatch(/last handler called next/);
  });
});
