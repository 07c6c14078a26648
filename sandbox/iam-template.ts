/**
 * Each function's IAM, read from the synthesized template: the statements of its execution role (the role's inline
 * policies and every AWS::IAM::Policy attached to it), with the template's references resolved to the names the
 * local services use, and what the Lambda service itself does with that role (write the function's logs, read the
 * stream of an event source mapping, send to its on-failure destination). Nothing here is a hand-written list of who
 * may do what: a grant added to or dropped from the construct shows up here at the next synth.
 */
import { type AuthorizationRequest, type PolicyStatement, type RolePrincipal, parseStatements } from './iam-policy';

type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, string> };

/** Where the local services put what the template declares: the region, the account, and names per logical id. */
export interface LocalNames {
  readonly region: string;
  readonly accountId: string;
  /**
   * The local name of a resource (a table's name, a pool's id, a secret's ARN: what `Ref` gives); resources not
   * listed are named by their logical id.
   */
  readonly names: Readonly<Record<string, string>>;
  /** A table's stream ARN as the local engine made it, by the table's logical id. */
  readonly streamArns?: Readonly<Record<string, string>>;
}

/** A function of the template and its role, references unresolved. */
export interface FunctionRole {
  /** Its construct id, capitalized (`PreAuthentication`, `NotifyUser`): its name in the sandbox and the tests. */
  readonly name: string;
  readonly logicalId: string;
  readonly roleLogicalId: string;
  /** The role's policy documents, as the template has them. */
  readonly documents: ReadonlyArray<{ readonly where: string; readonly document: unknown }>;
  /** What the Lambda service does with the role, besides the code's own calls (see `platformRequests`). */
  readonly platform: PlatformUse;
}

interface PlatformUse {
  /** The log group's logical id (`LoggingConfig.LogGroup`); undefined: Lambda's default group for the function. */
  readonly logGroup?: string;
  /** Event source mappings of this function on a table's stream: the table's logical id, and the on-failure queue's. */
  readonly streamMappings: ReadonlyArray<{ readonly table: string; readonly onFailureQueue?: string }>;
}

/** Every AWS::Lambda::Function of the template with its role. */
export function functionRoles(resources: Record<string, Resource>): FunctionRole[] {
  const roles: FunctionRole[] = [];
  for (const [logicalId, fn] of Object.entries(resources)) {
    if (fn.Type !== 'AWS::Lambda::Function') continue;
    const roleRef = (fn.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    if (roleRef === undefined || resources[roleRef[0]]?.Type !== 'AWS::IAM::Role')
      throw new Error(`the function ${logicalId} has no role of the template (Role: ${JSON.stringify(fn.Properties?.Role)})`);
    const roleLogicalId = roleRef[0];
    const role = resources[roleLogicalId];
    if (((role.Properties?.ManagedPolicyArns as unknown[] | undefined) ?? []).length > 0)
      throw new Error(`the role ${roleLogicalId} has managed policies, which the local IAM cannot read from the template`);
    const documents: Array<{ where: string; document: unknown }> = [];
    for (const inline of (role.Properties?.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }> | undefined) ?? [])
      documents.push({ where: `${roleLogicalId} policy ${inline.PolicyName}`, document: inline.PolicyDocument });
    for (const [policyId, policy] of Object.entries(resources)) {
      if (policy.Type !== 'AWS::IAM::Policy' && policy.Type !== 'AWS::IAM::ManagedPolicy') continue;
      const attached = ((policy.Properties?.Roles as Array<{ Ref?: string }> | undefined) ?? []).some((r) => r.Ref === roleLogicalId);
      if (attached) documents.push({ where: policyId, document: policy.Properties?.PolicyDocument });
    }
    const cdkPath = fn.Metadata?.['aws:cdk:path']?.split('/') ?? [];
    const constructId = cdkPath.length >= 2 && cdkPath[cdkPath.length - 1] === 'Resource' ? cdkPath[cdkPath.length - 2] : logicalId;
    roles.push({
      name: constructId.charAt(0).toUpperCase() + constructId.slice(1),
      logicalId,
      roleLogicalId,
      documents,
      platform: platformUse(resources, logicalId, fn),
    });
  }
  return roles;
}

function platformUse(resources: Record<string, Resource>, logicalId: string, fn: Resource): PlatformUse {
  const logGroup = (fn.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref;
  const streamMappings: Array<{ table: string; onFailureQueue?: string }> = [];
  for (const mapping of Object.values(resources)) {
    if (mapping.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const target = mapping.Properties?.FunctionName as { Ref?: string } | undefined;
    if (target?.Ref !== logicalId) continue;
    const source = (mapping.Properties?.EventSourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    if (source?.[1] !== 'StreamArn') throw new Error(`an event source mapping of ${logicalId} reads something other than a table's stream`);
    const destination = (mapping.Properties?.DestinationConfig as { OnFailure?: { Destination?: { 'Fn::GetAtt'?: [string, string] } } } | undefined)
      ?.OnFailure?.Destination?.['Fn::GetAtt'];
    if (destination !== undefined && resources[destination[0]]?.Type !== 'AWS::SQS::Queue')
      throw new Error(`an event source mapping of ${logicalId} fails to something other than a queue`);
    streamMappings.push({ table: source[0], ...(destination === undefined ? {} : { onFailureQueue: destination[0] }) });
  }
  return { ...(logGroup === undefined ? {} : { logGroup }), streamMappings };
}

/** The role as the local IAM evaluates it: its statements resolved to the local names. */
export function rolePrincipal(role: FunctionRole, resources: Record<string, Resource>, local: LocalNames): RolePrincipal {
  const statements: PolicyStatement[] = role.documents.flatMap(({ where, document }) => parseStatements(resolve(document, resources, local), where));
  return { functionName: role.name, roleName: role.roleLogicalId, accountId: local.accountId, statements };
}

/**
 * What the Lambda service does with the function's role, as AWS documents it: it writes the function's logs
 * (CreateLogStream and PutLogEvents on the group of `LoggingConfig`), and for an event source mapping on a DynamoDB
 * stream it reads the stream (DescribeStream, GetRecords, GetShardIterator, ListStreams) and sends the records it
 * gives up on to the on-failure queue (SendMessage) ("Lambda execution role", "Retain discarded records for a
 * DynamoDB event source"). Lambda refuses to create such a mapping when the role cannot read the stream.
 */
export function platformRequests(role: FunctionRole, resources: Record<string, Resource>, local: LocalNames): AuthorizationRequest[] {
  const requests: AuthorizationRequest[] = [];
  const arn = (logicalId: string, attribute: string) => String(resolve({ 'Fn::GetAtt': [logicalId, attribute] }, resources, local));
  const logGroupArn =
    role.platform.logGroup === undefined
      ? `arn:aws:logs:${local.region}:${local.accountId}:log-group:/aws/lambda/${role.name}:*`
      : arn(role.platform.logGroup, 'Arn');
  const stream = logGroupArn.replace(/:\*$/, ':log-stream:2026/01/01/[$LATEST]local');
  if (role.platform.logGroup === undefined) requests.push({ action: 'logs:CreateLogGroup', resource: logGroupArn.replace(/:\*$/, ''), context: {} });
  requests.push({ action: 'logs:CreateLogStream', resource: stream, context: {} }, { action: 'logs:PutLogEvents', resource: stream, context: {} });
  for (const mapping of role.platform.streamMappings) {
    const streamArn = arn(mapping.table, 'StreamArn');
    for (const operation of ['DescribeStream', 'GetRecords', 'GetShardIterator'])
      requests.push({ action: `dynamodb:${operation}`, resource: streamArn, context: {} });
    // ListStreams has no resource type: IAM evaluates it on `*`.
    requests.push({ action: 'dynamodb:ListStreams', resource: '*', context: {} });
    if (mapping.onFailureQueue !== undefined) requests.push({ action: 'sqs:SendMessage', resource: arn(mapping.onFailureQueue, 'Arn'), context: {} });
  }
  return requests;
}

/**
 * Resolves the CloudFormation expressions a policy holds (`Ref`, `Fn::GetAtt`, `Fn::Join`, the pseudo parameters) to
 * the local names. An expression or attribute it does not know is an error, never a guess.
 */
export function resolve(value: unknown, resources: Record<string, Resource>, local: LocalNames): unknown {
  if (Array.isArray(value)) return value.map((item) => resolve(item, resources, local));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0];
    if (key === 'Ref') return ref(String(arg), resources, local);
    if (key === 'Fn::GetAtt') {
      const [logicalId, attribute] = arg as [string, string];
      return getAtt(logicalId, attribute, resources, local);
    }
    if (key === 'Fn::Join') {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((part) => String(resolve(part, resources, local))).join(separator);
    }
    if (key.startsWith('Fn::')) throw new Error(`the local IAM does not resolve ${key} (${JSON.stringify(value)})`);
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolve(item, resources, local)]));
}

const PSEUDO: Record<string, (local: LocalNames) => string> = {
  'AWS::Partition': () => 'aws',
  'AWS::Region': (local) => local.region,
  'AWS::AccountId': (local) => local.accountId,
  'AWS::URLSuffix': () => 'amazonaws.com',
};

function ref(logicalId: string, resources: Record<string, Resource>, local: LocalNames): string {
  if (PSEUDO[logicalId] !== undefined) return PSEUDO[logicalId](local);
  const resource = resources[logicalId];
  if (resource === undefined) throw new Error(`the template has no resource ${logicalId} to resolve`);
  const name = local.names[logicalId] ?? logicalId;
  switch (resource.Type) {
    case 'AWS::SecretsManager::Secret':
      // A secret's Ref is its ARN: the local one when mapped, else one in the local account.
      return local.names[logicalId] ?? `arn:aws:secretsmanager:${local.region}:${local.accountId}:secret:${logicalId}-AbCdEf`;
    case 'AWS::SQS::Queue':
      return `http://sqs.${local.region}.localhost/${local.accountId}/${name}`;
    default:
      return name;
  }
}

function getAtt(logicalId: string, attribute: string, resources: Record<string, Resource>, local: LocalNames): string {
  const resource = resources[logicalId];
  if (resource === undefined) throw new Error(`the template has no resource ${logicalId} to resolve`);
  const name = local.names[logicalId] ?? logicalId;
  const { region, accountId } = local;
  const key = `${resource.Type}.${attribute}`;
  switch (key) {
    case 'AWS::DynamoDB::Table.Arn':
      return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
    case 'AWS::DynamoDB::Table.StreamArn': {
      const stream = local.streamArns?.[logicalId];
      if (stream === undefined) throw new Error(`the local stream of ${logicalId} is not known`);
      return stream;
    }
    case 'AWS::Cognito::UserPool.Arn':
      return `arn:aws:cognito-idp:${region}:${accountId}:userpool/${name}`;
    case 'AWS::Logs::LogGroup.Arn':
      return `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`;
    case 'AWS::SQS::Queue.Arn':
      return `arn:aws:sqs:${region}:${accountId}:${name}`;
    case 'AWS::IAM::Role.Arn':
      return `arn:aws:iam::${accountId}:role/${name}`;
    default:
      throw new Error(`the local IAM does not resolve Fn::GetAtt ${logicalId}.${attribute} (${resource.Type})`);
  }
}
