/**
 * Whether each decision of a benchmark row was taken with the store, seen from inside the process that runs the
 * bundles and without changing them: the row counts its figures only when every decision was.
 *
 * - DynamoDB requests: Node's `http.client.request.start` diagnostics channel names every request the bundle's SDK
 *   sends (its `x-amz-target`), and an AsyncLocalStorage context set around each decision attributes it.
 * - Store errors and the circuit: the bundles log them at ERROR (`lockout store unavailable`, `lockout store circuit
 *   opened`), so a bundle loaded with POWERTOOLS_LOG_LEVEL=ERROR writes one JSON line to stderr per store error and
 *   nothing in the steady state (no cost on a decision the store answers). Those lines are taken off stderr here
 *   (the descriptor and the stream), in the decision's context, and counted.
 *
 * A decision is taken without the store when it logged a store error (the store failed, timed out or was bypassed:
 * with the shipped store-error policy `local` the instance then decided from its own record) or sent no DynamoDB
 * request at all (the circuit was open). Nothing here waits or allocates beyond an array per decision.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import fs from 'node:fs';
import type { ClientRequest } from 'node:http';

/** The log level a bundle must be loaded with for its store errors to be counted. */
export const STORE_USE_LOG_LEVEL = 'ERROR';

interface Trace {
  /** DynamoDB operations this decision sent, in order (`UpdateItem`, ...). */
  readonly operations: string[];
  /** ERROR log messages this decision wrote, with the error's name when it has one. */
  readonly errors: string[];
}

/** How the decisions of a row met the store. */
export interface StoreUse {
  readonly decisions: number;
  /** Decisions taken without the store (the sum of the next two): a row with any is marked. */
  readonly withoutStore: number;
  /** Decisions that logged a store error (failed, timed out, or a write bypassed by the open circuit). */
  readonly storeErrors: number;
  /** Decisions that sent no DynamoDB request and logged no error: decided by the instance while its circuit was open. */
  readonly noRequest: number;
  /** Times a circuit opened during the row. */
  readonly circuitOpened: number;
  /** DynamoDB requests the row's decisions sent, by operation. */
  readonly requests: Record<string, number>;
  /** The ERROR lines by message (and error name), so nothing counted here is hidden. */
  readonly errors: Record<string, number>;
}

/** The bundles' ERROR messages for a store request that failed, timed out or was bypassed (decide.ts, sign-in-success.ts). */
const STORE_ERRORS = ['lockout store unavailable', 'could not mark an uncounted sign-in'];
const CIRCUIT_OPENED = 'lockout store circuit opened';

const context = new AsyncLocalStorage<Trace>();
let installed = false;
/** Requests and error lines outside any traced decision (a bundle's warm-up, a background key refresh). */
let untraced = { requests: 0, errors: 0 };

/** Subscribes to the HTTP channel and filters stderr. Once per process; idempotent. */
export function installStoreUse(): void {
  if (installed) return;
  installed = true;
  subscribe('http.client.request.start', (message) => {
    const target = (message as { request: ClientRequest }).request.getHeader('x-amz-target');
    if (typeof target !== 'string' || !target.startsWith('DynamoDB_')) return;
    const trace = context.getStore();
    if (trace === undefined) untraced.requests += 1;
    else trace.operations.push(target.slice(target.indexOf('.') + 1));
  });
  // The functions write their log lines straight to the descriptor (lambdas/shared/fd-console.ts), other code
  // through the stream: both ways are watched. The bundles call the module's `writeSync`, so replacing it on the
  // module object (the default import; a namespace import would be a copy of its bindings) sees their lines.
  const fsModule = fs as { writeSync: (fd: number, chunk: unknown, ...rest: unknown[]) => number };
  const writeSync = fsModule.writeSync;
  fsModule.writeSync = ((fd: number, chunk: unknown, ...rest: unknown[]) => {
    if (fd === 2 && took(chunk)) return typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength;
    return writeSync(fd, chunk, ...rest);
  }) as typeof fsModule.writeSync;
  const write = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (!took(chunk)) return write(chunk, ...rest);
    const callback = rest.find((r): r is () => void => typeof r === 'function');
    callback?.();
    return true;
  }) as typeof process.stderr.write;
}

/** Whether `chunk` was an ERROR line, counted for the decision it came from (and not written). */
function took(chunk: unknown): boolean {
  const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '';
  const line = errorLine(text);
  if (line === undefined) return false;
  const trace = context.getStore();
  if (trace === undefined) untraced.errors += 1;
  else trace.errors.push(line);
  return true;
}

/** A Powertools ERROR line's message (and error name), or undefined for anything else. */
function errorLine(text: string): string | undefined {
  if (!text.startsWith('{') || !text.includes('"level":"ERROR"')) return undefined;
  try {
    const log = JSON.parse(text) as { message?: string; error?: { name?: string } };
    return `${log.message ?? '(no message)'}${log.error?.name === undefined ? '' : ` (${log.error.name})`}`;
  } catch {
    return undefined;
  }
}

/** Tallies traced decisions into a row's StoreUse. */
export class StoreUseCounter {
  private decisions = 0;
  private storeErrors = 0;
  private noRequest = 0;
  private circuitOpened = 0;
  private requests: Record<string, number> = {};
  private errors: Record<string, number> = {};

  constructor() {
    installStoreUse();
  }

  /** Forgets what was counted (a warm-up's decisions). */
  reset(): void {
    [this.decisions, this.storeErrors, this.noRequest, this.circuitOpened] = [0, 0, 0, 0];
    [this.requests, this.errors] = [{}, {}];
  }

  /** Runs one decision in its own context; counts it when it settles (resolved or thrown alike). */
  async trace<T>(decision: () => Promise<T>): Promise<T> {
    const trace: Trace = { operations: [], errors: [] };
    try {
      return await context.run(trace, decision);
    } finally {
      this.add(trace);
    }
  }

  private add(trace: Trace): void {
    this.decisions += 1;
    for (const op of trace.operations) this.requests[op] = (this.requests[op] ?? 0) + 1;
    let storeError = false;
    for (const line of trace.errors) {
      this.errors[line] = (this.errors[line] ?? 0) + 1;
      if (line.startsWith(CIRCUIT_OPENED)) this.circuitOpened += 1;
      else if (STORE_ERRORS.some((prefix) => line.startsWith(prefix))) storeError = true;
    }
    if (storeError) this.storeErrors += 1;
    else if (trace.operations.length === 0) this.noRequest += 1;
  }

  result(): StoreUse {
    return {
      decisions: this.decisions,
      withoutStore: this.storeErrors + this.noRequest,
      storeErrors: this.storeErrors,
      noRequest: this.noRequest,
      circuitOpened: this.circuitOpened,
      requests: { ...this.requests },
      errors: { ...this.errors },
    };
  }
}

/** Requests and error lines seen outside traced decisions since the last call (then reset). */
export function takeUntraced(): { requests: number; errors: number } {
  const seen = untraced;
  untraced = { requests: 0, errors: 0 };
  return seen;
}

/** Sums rows' StoreUse (several processes of one fault row). */
export function sumStoreUse(rows: readonly StoreUse[]): StoreUse {
  const merge = (maps: ReadonlyArray<Record<string, number>>) => {
    const out: Record<string, number> = {};
    for (const map of maps) for (const [k, v] of Object.entries(map)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const total = (pick: (r: StoreUse) => number) => rows.reduce((a, r) => a + pick(r), 0);
  return {
    decisions: total((r) => r.decisions),
    withoutStore: total((r) => r.withoutStore),
    storeErrors: total((r) => r.storeErrors),
    noRequest: total((r) => r.noRequest),
    circuitOpened: total((r) => r.circuitOpened),
    requests: merge(rows.map((r) => r.requests)),
    errors: merge(rows.map((r) => r.errors)),
  };
}

/** A row's mark in results.md: empty when every decision was taken with the store. */
export function storeUseMark(use: StoreUse | undefined): string {
  if (use === undefined || use.withoutStore === 0) return '0';
  return `**${use.withoutStore}** ⚠ (${use.storeErrors} store errors, ${use.noRequest} circuit open)`;
}
