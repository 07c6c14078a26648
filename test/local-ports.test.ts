import { createServer } from 'node:net';
import { portFlag } from '../sandbox/cli-args';
import { PortTakenError, freePort, onFreePort } from '../sandbox/ports';

describe('onFreePort', () => {
  it('tries another port when the chosen one was taken before the child bound it', async () => {
    const tried: number[] = [];
    const started = await onFreePort(async (port) => {
      tried.push(port);
      if (tried.length < 3) throw new PortTakenError(port, 'taken meanwhile');
      return `listening on ${port}`;
    });
    expect(tried).toHaveLength(3);
    expect(started).toBe(`listening on ${tried[2]}`);
  });

  it('gives up after five taken ports, with the last error', async () => {
    let calls = 0;
    await expect(
      onFreePort((port) => {
        calls++;
        return Promise.reject(new PortTakenError(port, 'always taken'));
      }),
    ).rejects.toThrow(/^port \d+ is already in use: always taken$/);
    expect(calls).toBe(5);
  });

  it('does not retry other failures', async () => {
    let calls = 0;
    await expect(
      onFreePort(() => {
        calls++;
        return Promise.reject(new Error('java not found'));
      }),
    ).rejects.toThrow('java not found');
    expect(calls).toBe(1);
  });
});

it('freePort returns a port that can be bound', async () => {
  const port = await freePort();
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  await new Promise((resolve) => server.close(resolve));
});

describe('portFlag', () => {
  it('takes 0 (any free port) up to 65535, and the default when absent', () => {
    expect(portFlag({ port: '0' }, 'port', 9229)).toBe(0);
    expect(portFlag({ port: '65535' }, 'port', 9229)).toBe(65535);
    expect(portFlag({}, 'port', 9229)).toBe(9229);
  });

  it.each(['-1', '65536', 'abc', '80.5', ''])('rejects %j, naming the flag', (raw) => {
    expect(() => portFlag({ 'dynamodb-port': raw }, 'dynamodb-port', 8000)).toThrow(
      `--dynamodb-port must be a port number from 0 (any free port) to 65535, got ${JSON.stringify(raw)}`,
    );
  });
});
