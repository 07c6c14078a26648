import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ServerClock, skewWarning, watchServerDate } from '../lib/admin/server-clock';

const SERVER_DATE = 'Tue, 01 Dec 2026 13:00:07 GMT';
const SERVER_MS = Date.parse(SERVER_DATE);

/** A clock whose machine time is `localMs`, collecting its warnings. */
function clockAt(localMs: number) {
  const warnings: string[] = [];
  let local = localMs;
  const clock = new ServerClock({ localNow: () => local, warn: (text) => warnings.push(text) });
  return { clock, warnings, advance: (ms: number) => (local += ms) };
}

describe("DynamoDB's time from the Date header", () => {
  it('decides on the server time, and keeps counting from it as this machine’s clock runs', () => {
    const { clock, advance } = clockAt(SERVER_MS - 3 * 3_600_000);
    clock.observe(SERVER_DATE);
    expect(clock.now()).toBe(SERVER_MS);
    advance(1_500);
    expect(clock.now()).toBe(SERVER_MS + 1_500);
  });

  it('warns once, naming the skew and its direction, when this machine is more than 5 s off', () => {
    const { clock, warnings } = clockAt(SERVER_MS + 12_000);
    clock.observe(SERVER_DATE);
    clock.observe(SERVER_DATE);
    expect(clock.skewMs()).toBe(12_000);
    expect(warnings).toEqual([
      "this machine's clock is 12 s ahead of DynamoDB's: locks are shown and set on DynamoDB's time, which the triggers use too",
    ]);
  });

  it('names a clock that is behind', () => {
    expect(skewWarning(-90_000)).toContain("this machine's clock is 90 s behind DynamoDB's");
  });

  it('stays quiet within 5 s: the header has one-second resolution and the answer takes time to arrive', () => {
    const { clock, warnings } = clockAt(SERVER_MS + 4_900);
    clock.observe(SERVER_DATE);
    expect(warnings).toEqual([]);
    expect(skewWarning(5_000)).toBeUndefined();
    expect(skewWarning(-5_000)).toBeUndefined();
    expect(skewWarning(5_001)).toBeDefined();
  });

  it("falls back to this machine's clock, saying so once, when no answer carried a readable Date", () => {
    const { clock, warnings } = clockAt(1_000_000);
    clock.observe(undefined);
    clock.observe('not a date');
    expect(clock.now()).toBe(1_000_000);
    expect(clock.now()).toBe(1_000_000);
    expect(clock.skewMs()).toBeUndefined();
    expect(warnings).toEqual(["DynamoDB's answer carried no Date header: times are decided on this machine's clock"]);
  });

  it('reads the header of every response a DynamoDB client receives, error answers included', async () => {
    const answers = [
      { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0', date: SERVER_DATE }, body: '{}' },
      {
        statusCode: 400,
        headers: { 'content-type': 'application/x-amz-json-1.0', Date: 'Tue, 01 Dec 2026 13:00:37 GMT' },
        body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'no table' }),
      },
    ];
    const client = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
      requestHandler: {
        handle: async () => {
          const { body, ...rest } = answers.shift()!;
          return { response: { ...rest, body: Buffer.from(body) } };
        },
      },
    });
    const { clock, warnings } = clockAt(SERVER_MS + 60_000);
    watchServerDate(client, clock);
    await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'k' } } }));
    expect(clock.skewMs()).toBe(60_000);
    await expect(client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'k' } } }))).rejects.toThrow('no table');
    expect(clock.skewMs()).toBe(30_000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('60 s ahead');
  });
});
