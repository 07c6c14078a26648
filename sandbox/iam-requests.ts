/**
 * What an AWS SDK request asks of IAM, read from the request as it goes on the wire (signed): who signs it (the access
 * key id of its SigV4 credential), the service (the credential scope), the operation, the resource and the condition
 * keys the service sets. Shared by the sandbox's IAM gateway (iam-gateway.ts), which sees the functions' bundles'
 * requests, and by the enforcing middleware of the DynamoDB Local suites (test/support/iam.ts), which sees a
 * handler's: one reading, one evaluation (iam-policy.ts).
 *
 * Only what the lockout's functions call is read. A request to an operation this module cannot read the resource or
 * keys of is `unmodelled`, which the enforcers refuse loudly rather than allow or deny by guess.
 */
import { type AuthorizationRequest, type RolePrincipal, authorize, refusalMessage } from './iam-policy';

/** The parts of an HTTP request the reading needs, whether from node:http or the SDK's HttpRequest. */
export interface WireRequest {
  readonly method: string;
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/** The table facts a DynamoDB request needs to name its keys: the partition key attribute of each table, by name. */
export type PartitionKeyOf = (tableName: string) => string | undefined;

export interface ReadRequest {
  readonly accessKeyId: string;
  readonly service: string;
  readonly region: string;
  /** One per authorization IAM makes; PutEvents makes one per entry. */
  readonly requests: AuthorizationRequest[];
}

export class UnmodelledRequestError extends Error {
  override readonly name = 'UnmodelledRequestError';
}

const CREDENTIAL = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

/** Reads who asks what; undefined when the request is not SigV4-signed. */
export function readRequest(wire: WireRequest, accountId: string, partitionKeyOf: PartitionKeyOf): ReadRequest | undefined {
  const credential = CREDENTIAL.exec(wire.headers.authorization ?? '');
  if (!credential) return undefined;
  const [, accessKeyId, region, service] = credential;
  const target = wire.headers['x-amz-target'] ?? '';
  const operation = target.slice(target.indexOf('.') + 1);
  const body = (wire.body === '' ? {} : JSON.parse(wire.body)) as Record<string, unknown>;
  const arn = (svc: string, resource: string) => `arn:aws:${svc}:${region}:${accountId}:${resource}`;
  const one = (request: AuthorizationRequest): ReadRequest => ({ accessKeyId, service, region, requests: [request] });
  switch (service) {
    case 'dynamodb':
      return one(dynamoDbRequest(operation, body, arn, partitionKeyOf));
    case 'secretsmanager': {
      const id = String(body.SecretId ?? '');
      return one({
        action: `secretsmanager:${operation}`,
        resource: id.startsWith('arn:') ? id : arn('secretsmanager', `secret:${id}`),
        context: {},
      });
    }
    case 'cognito-idp':
      return one({ action: `cognito-idp:${operation}`, resource: arn('cognito-idp', `userpool/${String(body.UserPoolId ?? '')}`), context: {} });
    case 'events': {
      if (operation !== 'PutEvents') throw new UnmodelledRequestError(`the local IAM does not read events:${operation}`);
      const entries = (body.Entries as Array<Record<string, unknown>> | undefined) ?? [];
      // EventBridge authorizes each entry on its own bus, with its source and detail type as condition keys.
      const requests = entries.map((entry) => {
        const bus = String(entry.EventBusName ?? 'default');
        return {
          action: 'events:PutEvents',
          resource: bus.startsWith('arn:') ? bus : arn('events', `event-bus/${bus}`),
          context: { 'events:source': [String(entry.Source)], 'events:detail-type': [String(entry.DetailType)] },
        };
      });
      return { accessKeyId, service, region, requests };
    }
    case 'ses': {
      if (wire.method !== 'POST' || wire.path.split('?')[0] !== '/v2/email/outbound-emails')
        throw new UnmodelledRequestError(`the local IAM does not read the SES request ${wire.method} ${wire.path}`);
      const from = String(body.FromEmailAddress ?? '');
      // SES authorizes the sending identity: locally, the From address itself is the verified identity.
      return one({ action: 'ses:SendEmail', resource: arn('ses', `identity/${from}`), context: { 'ses:fromaddress': [from] } });
    }
    default:
      throw new UnmodelledRequestError(`the local IAM does not read requests to ${service}`);
  }
}

/** Operations that touch one item, and where their key is. */
const ITEM_OPERATIONS: Record<string, 'Key' | 'Item'> = { GetItem: 'Key', UpdateItem: 'Key', DeleteItem: 'Key', PutItem: 'Item' };
/** Operations on a table without item keys; anything else with keys (batches, transactions, queries) is unmodelled. */
const TABLE_OPERATIONS = new Set(['DescribeTable', 'DescribeTimeToLive']);

function dynamoDbRequest(
  operation: string,
  body: Record<string, unknown>,
  arn: (service: string, resource: string) => string,
  partitionKeyOf: PartitionKeyOf,
): AuthorizationRequest {
  const table = String(body.TableName ?? '');
  const resource = table.startsWith('arn:') ? table : arn('dynamodb', `table/${table}`);
  const action = `dynamodb:${operation}`;
  if (TABLE_OPERATIONS.has(operation)) return { action, resource, context: {} };
  const where = ITEM_OPERATIONS[operation];
  if (where === undefined) throw new UnmodelledRequestError(`the local IAM does not read ${action}`);
  const partitionKey = partitionKeyOf(table.split('/').pop()!);
  if (partitionKey === undefined) throw new UnmodelledRequestError(`the local IAM does not know the key schema of the table ${table}`);
  const key = (body[where] as Record<string, Record<string, unknown>> | undefined)?.[partitionKey];
  // The partition key's value as IAM compares it: its text (a string, a number's digits).
  const leading = key === undefined ? [] : [String(Object.values(key)[0])];
  return { action, resource, context: { 'dynamodb:leadingkeys': leading } };
}

/** The answer AWS gives a refused request, in the request's protocol, so the SDK raises AccessDeniedException. */
export interface DeniedAnswer {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The whole request refused: JSON-protocol services answer 400 with the error's type in `__type` and in
 * `x-amzn-ErrorType`; SES v2 (REST) answers 403. The message is IAM's.
 */
export function deniedAnswer(wire: WireRequest, message: string): DeniedAnswer {
  const requestId = `local-iam-${Math.random().toString(16).slice(2, 10)}`;
  const target = wire.headers['x-amz-target'];
  if (target === undefined) {
    return {
      statusCode: 403,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException', 'x-amzn-requestid': requestId },
      body: JSON.stringify({ message }),
    };
  }
  return {
    statusCode: 400,
    headers: {
      'content-type': wire.headers['content-type'] ?? 'application/x-amz-json-1.1',
      'x-amzn-errortype': 'AccessDeniedException',
      'x-amzn-requestid': requestId,
    },
    body: JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: message }),
  };
}

/** One authorization, decided: refused ones carry IAM's message. */
export interface Decided {
  readonly request: AuthorizationRequest;
  readonly allowed: boolean;
  readonly message?: string;
  /** Refused only by a condition: a statement allows the action on the resource (EventBridge tells these apart). */
  readonly byCondition?: boolean;
}

/** Each authorization of a read request, decided for a principal. */
export function decide(principal: RolePrincipal, read: ReadRequest): Decided[] {
  const unconditional = { ...principal, statements: principal.statements.map((s) => ({ ...s, conditions: [] })) };
  return read.requests.map((request) => {
    const decision = authorize(principal, request);
    if (decision.allowed) return { request, allowed: true };
    return {
      request,
      allowed: false,
      message: refusalMessage(principal, request, decision),
      byCondition: !decision.explicitDeny && authorize(unconditional, request).allowed,
    };
  });
}

/** The message of the first refusal among decisions, or undefined when all are allowed. */
export function firstRefusal(decided: readonly Decided[]): string | undefined {
  return decided.find((d) => !d.allowed)?.message;
}

/** What an enforcer saw: per function, the actions it was allowed to perform, and every refusal. */
export class IamLedger {
  readonly used = new Map<string, Set<string>>();
  readonly refused: Array<{ readonly functionName: string; readonly request: AuthorizationRequest; readonly message: string }> = [];

  record(functionName: string, request: AuthorizationRequest, refusal?: string): void {
    if (refusal !== undefined) {
      this.refused.push({ functionName, request, message: refusal });
      return;
    }
    const used = this.used.get(functionName) ?? new Set<string>();
    used.add(request.action);
    this.used.set(functionName, used);
  }

  /** Each function's used actions, sorted, for reports and assertions. */
  usedActions(): Record<string, string[]> {
    return Object.fromEntries([...this.used].map(([name, actions]) => [name, [...actions].sort()]));
  }
}
