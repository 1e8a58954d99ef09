/**
 * Prometheus metrics: request counts and latency by route and status. One
 * registry per app so several apps in one process (tests) do not collide.
 */
import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LANE_ROUTE } from './fixed-lane.js';

/** The registry and the request-recording middleware. */
export interface HttpMetrics {
  registry: Registry;
  middleware: RequestHandler;
}

/** Create the metrics of one app. */
export function createMetrics(withDefaults = true): HttpMetrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'tds_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'tds_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const middleware: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      // The matched route pattern, not the raw path, so ids do not explode the label set (a fixed lane names its own).
      const lane = res.locals[LANE_ROUTE] as string | undefined;
      const route = lane ?? (req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched');
      const labels = { method: req.method, route, status: String(res.statusCode) };
      requests.inc(labels);
      latency.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
  return { registry, middleware };
}

/**
 * A counter whose values another module keeps (e.g. witness submission
 * outcomes counted by the ledger's background loop): read at each scrape, so
 * that module needs no metrics library and http/ imports no capability.
 */
export function registerCounterSource(registry: Registry, name: string, help: string, labelNames: string[], read: () => Array<{ labels: Record<string, string>; value: number }>): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, value } of read()) this.inc(labels, value);
    },
  });
}
