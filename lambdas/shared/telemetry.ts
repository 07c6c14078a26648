import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, type MetricName, SERVICE_NAME, type TriggerName } from './contract';
import { FD_CONSOLE, type LineConsole } from './fd-console';
import { redacted } from './redact';

export { redacted } from './redact';

export type { MetricName, TriggerName } from './contract';

export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Powertools Logger and Metrics that write through FD_CONSOLE (fd-console.ts) instead of the stdio streams they would
 * open when made. Their constructors call `setConsole()`, a method Powertools declares private: replacing it on
 * subclasses is the one way in that keeps their formats, levels and EMF exactly as Powertools writes them.
 */
class FdLogger extends Logger {}
class FdMetrics extends Metrics {}
for (const type of [FdLogger, FdMetrics])
  (type.prototype as unknown as { setConsole(): void }).setConsole = function (this: { console: LineConsole }) {
    this.console = FD_CONSOLE;
  };

/** Logger level comes from POWERTOOLS_LOG_LEVEL; the whole event is never logged. */
export function createTelemetry(trigger: TriggerName): Telemetry {
  return {
    logger: new FdLogger({ serviceName: SERVICE_NAME, persistentKeys: { trigger } }),
    metrics: new FdMetrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, defaultDimensions: { trigger } }),
  };
}

export function count(metrics: Metrics, name: MetricName): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
}

/** App clients an instance names in metric dimensions; later ones are `other`, so a metric's dimensions stay few. */
export const CLIENT_DIMENSIONS = 25;
const namedClients = new Set<string>();

/** One count with extra dimensions beside the function's own (one EMF line of its own). */
export function countBy(metrics: Metrics, name: MetricName, dimensions: { readonly triggerSource: string; readonly clientId?: string }): void {
  const client = dimensions.clientId ?? 'none';
  if (!namedClients.has(client) && namedClients.size < CLIENT_DIMENSIONS) namedClients.add(client);
  // Powertools makes a plain Metrics here, whose line goes through the stdio streams, not fd-console.ts: the same
  // bytes, in order (both write synchronously), on a path taken only by uncounted sign-ins.
  const single = metrics.singleMetric();
  single.addDimensions({ triggerSource: dimensions.triggerSource, clientId: namedClients.has(client) ? client : 'other' });
  single.addMetric(name, MetricUnit.Count, 1);
}

/** Flushes this invocation's metrics as one EMF line; silent when none were recorded. */
export function flush(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/**
 * An error as log fields: its name and message only, addresses redacted. The whole error object would also carry
 * SDK request metadata, and a stack that says nothing an operator can act on. Provider messages can quote what
 * they were given (an SES rejection names its recipient), and a log is no place for an address.
 */
export function errorFields(error: unknown): { error: { name?: string; message?: string } } {
  const e = error as Error | undefined;
  return { error: { name: e?.name, message: typeof e?.message === 'string' ? redacted(e.message) : undefined } };
}
