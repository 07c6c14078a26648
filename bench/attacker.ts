/**
 * One Lambda instance of the fault benchmark (bench/faults.ts), in a process of its own:
 * `node --import tsx bench/attacker.ts <bundle> <identities as JSON> <attempts per identity> <concurrency> [cold]`, with the
 * environment Lambda would give the function. It loads the bundle and takes one decision alone on an identity of its
 * own (a new instance's first invocation: Lambda gives it that one event, not fifty at once), prints `ready`, and waits
 * for `go` on stdin, so that every process of a row attacks at the same time. Then it fires `attempts` attempts at
 * each identity, `concurrency` at a time, and prints `{ admitted, storeUse }`: what it admitted per identity, and how
 * many of its decisions were taken without the store (store-use.ts). With `cold`, no decision alone first: the burst
 * is the instance's first invocations (how the benchmark attacked before; kept to show what that measured).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { StoreUseCounter } from './store-use';
import { inPool } from './pool';

type Handler = (event: unknown) => Promise<unknown>;

const event = (userName: string) => ({
  version: '1',
  triggerSource: 'PreAuthentication_Authentication',
  region: 'us-east-1',
  userPoolId: 'us-east-1_bench',
  userName,
  callerContext: { awsSdkVersion: 'bench', clientId: 'bench' },
  request: { userAttributes: { sub: userName }, validationData: {} },
  response: {},
});

async function main(): Promise<void> {
  const [bundle, identitiesJson, attemptsText, concurrencyText, cold] = process.argv.slice(2);
  const identities = JSON.parse(identitiesJson) as string[];
  const [attempts, concurrency] = [Number(attemptsText), Number(concurrencyText)];
  const counter = new StoreUseCounter();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require(bundle) as { handler: Handler };
  if (cold !== 'cold') await handler(event(`first-${randomUUID()}`)).catch(() => undefined);
  process.stdout.write('ready\n');
  process.stdin.setEncoding('utf8');
  let input = '';
  while (!input.includes('go')) input += String((await once(process.stdin, 'data'))[0]);

  const admitted = Object.fromEntries(identities.map((id) => [id, 0]));
  const jobs = identities.flatMap((id) => Array.from({ length: attempts }, () => id));
  await inPool(jobs.length, concurrency, (i) =>
    counter
      .trace(() => handler(event(jobs[i])))
      .then(
        () => (admitted[jobs[i]] += 1),
        () => undefined,
      ),
  );
  process.stdout.write(`${JSON.stringify({ admitted, storeUse: counter.result() })}\n`);
  process.exit(0);
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
