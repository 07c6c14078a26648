/**
 * Stand-ins for the AWS services the admin CLI asks besides DynamoDB, served on loopback so that the CLI runs as
 * operators run it (a separate process, the SDK's own endpoint resolution: `AWS_ENDPOINT_URL_<SERVICE>`):
 * a user pool that resolves names like Cognito's `AdminGetUser`, and STS answering `GetCallerIdentity`.
 */
import { type Server, createServer } from 'node:http';

export interface FakeService {
  readonly endpoint: string;
  /** The operations asked so far (`AdminGetUser`, `GetCallerIdentity`, ...), in order. */
  readonly calls: string[];
  close(): Promise<void>;
}

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

async function serve(
  answer: (operation: string, body: string) => Answer,
  operationOf: (target: string, body: string) => string,
): Promise<FakeService> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const operation = operationOf(String(req.headers['x-amz-target'] ?? ''), body);
      calls.push(operation);
      const { status, contentType, body: text } = answer(operation, body);
      res.writeHead(status, { 'content-type': contentType, date: new Date().toUTCString() });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface FakeUser {
  readonly username: string;
  readonly sub: string;
  readonly email?: string;
}

export interface FakePool {
  readonly id: string;
  /** `UsernameConfiguration.CaseSensitive`; undefined: the pool does not say. */
  readonly caseSensitive?: boolean;
  readonly users: readonly FakeUser[];
}

/** A user pool: `AdminGetUser` finds a user by user name or email alias, compared as the pool compares names. */
export function startFakeCognito(pool: FakePool): Promise<FakeService> {
  const json = (status: number, value: unknown): Answer => ({ status, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(value) });
  const error = (type: string, message: string) => json(400, { __type: type, message });
  const same = (a: string, b: string) => (pool.caseSensitive === false ? a.toLowerCase() === b.toLowerCase() : a === b);
  return serve(
    (operation, body) => {
      const input = JSON.parse(body || '{}') as { UserPoolId?: string; Username?: string };
      if (input.UserPoolId !== pool.id) return error('ResourceNotFoundException', `User pool ${input.UserPoolId} does not exist.`);
      if (operation === 'DescribeUserPool')
        return json(200, {
          UserPool: { Id: pool.id, ...(pool.caseSensitive === undefined ? {} : { UsernameConfiguration: { CaseSensitive: pool.caseSensitive } }) },
        });
      if (operation === 'AdminGetUser') {
        const typed = input.Username ?? '';
        const user = pool.users.find((u) => same(u.username, typed) || (u.email !== undefined && u.email.toLowerCase() === typed.toLowerCase()));
        if (user === undefined) return error('UserNotFoundException', 'User does not exist.');
        return json(200, {
          Username: user.username,
          UserAttributes: [{ Name: 'sub', Value: user.sub }, ...(user.email === undefined ? [] : [{ Name: 'email', Value: user.email }])],
          Enabled: true,
          UserStatus: 'CONFIRMED',
        });
      }
      return error('InvalidParameterException', `the fake pool does not answer ${operation}`);
    },
    (target) => target.replace(/^AWSCognitoIdentityProviderService\./, ''),
  );
}

/** STS (the query protocol, XML answers): `GetCallerIdentity` names `arn`. */
export function startFakeSts(arn: string): Promise<FakeService> {
  return serve(
    (operation) =>
      operation === 'GetCallerIdentity'
        ? {
            status: 200,
            contentType: 'text/xml',
            body:
              '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
              `<Arn>${arn}</Arn><UserId>AROAEXAMPLE:operator</UserId><Account>123456789012</Account>` +
              '</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
          }
        : { status: 400, contentType: 'text/xml', body: '<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>' },
    (_target, body) => new URLSearchParams(body).get('Action') ?? '',
  );
}
