import * as nodeFs from 'node:fs';
import { FD_CONSOLE } from '../lambdas/shared/fd-console';
import { createTelemetry } from '../lambdas/shared/telemetry';

// The module itself: what fd-console.ts calls (an import's copy of its bindings would not see the spy).
const fs = jest.requireActual<typeof nodeFs>('node:fs');

afterEach(() => jest.restoreAllMocks());

describe("the functions' console (fd-console.ts)", () => {
  it('writes info, debug and EMF lines to stdout, warnings and errors to stderr, one whole line per write', () => {
    const writes: Array<[number, string]> = [];
    jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, text: string) => writes.push([fd, text]) && text.length) as () => number);
    FD_CONSOLE.info('{"level":"INFO"}');
    FD_CONSOLE.debug('debug %d', 2);
    FD_CONSOLE.log('{"_aws":{}}');
    FD_CONSOLE.warn('{"level":"WARN"}');
    FD_CONSOLE.error('{"level":"ERROR"}');
    expect(writes).toEqual([
      [1, '{"level":"INFO"}\n'],
      [1, 'debug 2\n'],
      [1, '{"_aws":{}}\n'],
      [2, '{"level":"WARN"}\n'],
      [2, '{"level":"ERROR"}\n'],
    ]);
  });

  it('loses no line when the descriptor refuses the write (a full non-blocking pipe): the stream takes it', () => {
    jest.spyOn(fs, 'writeSync').mockImplementation(() => {
      throw Object.assign(new Error('EAGAIN: resource temporarily unavailable, write'), { code: 'EAGAIN' });
    });
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    FD_CONSOLE.info('kept');
    FD_CONSOLE.error('kept too');
    expect(out).toHaveBeenCalledWith('kept\n');
    expect(err).toHaveBeenCalledWith('kept too\n');
  });

  it("is what the functions' Powertools Logger and Metrics write through: Powertools' formats, not the stdio streams", () => {
    const writes: Array<[number, string]> = [];
    jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, text: string) => writes.push([fd, text]) && text.length) as () => number);
    const streams = [jest.spyOn(process.stdout, 'write'), jest.spyOn(process.stderr, 'write')];
    // Metrics on, as deployed (the tests' environment turns them off).
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const { logger, metrics } = createTelemetry('PreAuthentication');
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    logger.setLogLevel('INFO');
    logger.warn('store slow', { identity: 'abc' });
    metrics.addMetric('StoreErrors', 'Count', 1);
    metrics.publishStoredMetrics();
    expect(writes).toEqual([
      [2, expect.stringMatching(/^\{"level":"WARN","message":"store slow",.*"trigger":"PreAuthentication","identity":"abc"\}\n$/)],
      [
        1,
        expect.stringMatching(
          /^\{"_aws":\{.*"Namespace":"CognitoLockout".*\},"service":"cognito-lockout","trigger":"PreAuthentication","StoreErrors":1\}\n$/,
        ),
      ],
    ]);
    for (const stream of streams) expect(stream).not.toHaveBeenCalled();
  });
});
