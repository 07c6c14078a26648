import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { type FunctionRole, functionRoles } from './iam-template';
import { DEFAULT_MAPPING, type FilterPattern, type MappingSettings, checkPattern } from './stream-poller';

/**
 * What the local sandbox takes from the synthesized CDK app, so that it runs what `cdk deploy` would deploy:
 * the table's key schema and TTL attribute, each trigger's bundle and environment, the functions the table's
 * stream invokes through event source mappings (with the mappings' settings and filters), and the pool and
 * client settings that matter to sign-in, and each function's IAM (iam-template.ts), which the sandbox enforces.
 */
export type TriggerName = 'PreAuthentication' | 'PostAuthentication' | 'PreSignUp';
/** Wired only when its setting is on (unlockOnPasswordReset). */
export type OptionalTriggerName = 'PostConfirmation' | 'PreTokenGeneration';

export interface SandboxBlueprint {
  readonly stackName: string;
  readonly table: { readonly logicalId: string; readonly partitionKey: string; readonly ttlAttribute: string };
  readonly triggers: Record<TriggerName, TriggerBundle> & Partial<Record<OptionalTriggerName, TriggerBundle>>;
  /** Every function an event source mapping on the table's stream invokes, one entry per mapping, in template order. */
  readonly streamConsumers: StreamConsumer[];
  /** The device token key's secret (a generated value): its logical id, or undefined when device tokens are off. */
  readonly deviceKeySecret?: { readonly logicalId: string };
  readonly pool: {
    readonly logicalId: string;
    readonly usernameAttributes: string[];
    readonly caseSensitive: boolean;
    readonly passwordPolicy: Record<string, unknown>;
  };
  /** Every function's execution role, read from the template; the sandbox's IAM gateway enforces them. */
  readonly functionRoles: FunctionRole[];
  /** The template's resources, to resolve the roles' references against the local names. */
  readonly resources: Record<string, TemplateResource>;
  readonly client: {
    readonly explicitAuthFlows: string[];
    readonly preventUserExistenceErrors: string;
    /** The OAuth settings the managed login pages check. */
    readonly oauth: { readonly callbackUrls: string[]; readonly logoutUrls: string[]; readonly scopes: string[]; readonly flows: string[] };
  };
}

export interface TriggerBundle {
  readonly bundleDir: string;
  /** The function's `Handler`: `file.export`, the file relative to the bundle. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly environment: Record<string, unknown>;
}

/** A function and the event source mapping through which the table's stream invokes it. */
export interface StreamConsumer extends TriggerBundle {
  /** The function's construct id, capitalized (`Announcer`, `NotifyUser`): its name in the sandbox. */
  readonly name: string;
  readonly logicalId: string;
  /** The event source mapping's logical id. */
  readonly mappingId: string;
  readonly mapping: MappingSettings;
  /** The on-failure destination's logical id, when the mapping has one. */
  readonly onFailure?: string;
}

export type TemplateResource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, string> };
type Resource = TemplateResource;

/** Lambda's default function timeout, when the template sets none. */
const DEFAULT_TIMEOUT_SECONDS = 3;

/** The context the CDK CLI would give the app: cdk.json's, then the caller's overrides. */
export function appContext(projectRoot: string, overrides: Record<string, unknown>): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return { ...cdkJson.context, ...overrides };
}

/** Synthesizes the app (bundling on, nag off) into `outdir` and reads the blueprint from its template. */
export function synthesizeBlueprint(context: Record<string, unknown>, outdir: string): SandboxBlueprint {
  const app = new App({
    outdir,
    context: { ...context, 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true },
  });
  const stack = buildApp(app, { nag: false });
  app.synth();
  const template = JSON.parse(readFileSync(path.join(outdir, stack.templateFile), 'utf8')) as { Resources: Record<string, Resource> };
  return blueprintFromTemplate(stack.stackName, template.Resources, outdir);
}

export function blueprintFromTemplate(stackName: string, resources: Record<string, Resource>, outdir: string): SandboxBlueprint {
  const only = (type: string): [string, Resource] => {
    const found = Object.entries(resources).filter(([, r]) => r.Type === type);
    if (found.length !== 1) throw new Error(`expected exactly one ${type} in the template, found ${found.length}`);
    return found[0];
  };
  const [tableId, table] = only('AWS::DynamoDB::Table');
  const keySchema = table.Properties.KeySchema as Array<{ AttributeName: string; KeyType: string }>;
  const ttl = table.Properties.TimeToLiveSpecification as { AttributeName: string } | undefined;
  if (!ttl) throw new Error('the lockout table in the template has no TTL attribute');
  const [poolId, pool] = only('AWS::Cognito::UserPool');
  const [, client] = only('AWS::Cognito::UserPoolClient');

  const lambdaConfig = pool.Properties.LambdaConfig as Record<string, { 'Fn::GetAtt': [string, string] }>;
  const triggers = {} as Record<TriggerName, TriggerBundle> & Partial<Record<OptionalTriggerName, TriggerBundle>>;
  for (const name of ['PreAuthentication', 'PostAuthentication', 'PreSignUp', 'PostConfirmation', 'PreTokenGeneration'] as const) {
    const functionId = lambdaConfig?.[name]?.['Fn::GetAtt']?.[0];
    if (functionId === undefined && (name === 'PostConfirmation' || name === 'PreTokenGeneration')) continue;
    const bundle = functionId === undefined ? undefined : functionBundle(resources, functionId, outdir);
    if (!bundle) throw new Error(`the template wires no bundled ${name} function`);
    triggers[name] = bundle;
  }

  const secrets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret');
  if (secrets.length > 1) throw new Error(`expected at most one AWS::SecretsManager::Secret in the template, found ${secrets.length}`);
  return {
    stackName,
    deviceKeySecret: secrets.length === 1 ? { logicalId: secrets[0][0] } : undefined,
    streamConsumers: streamConsumersOf(resources, tableId, outdir),
    table: { logicalId: tableId, partitionKey: keySchema.find((k) => k.KeyType === 'HASH')!.AttributeName, ttlAttribute: ttl.AttributeName },
    triggers,
    functionRoles: functionRoles(resources),
    resources,
    pool: {
      logicalId: poolId,
      usernameAttributes: (pool.Properties.UsernameAttributes as string[]) ?? [],
      caseSensitive: (pool.Properties.UsernameConfiguration as { CaseSensitive?: boolean } | undefined)?.CaseSensitive ?? true,
      passwordPolicy: (pool.Properties.Policies as { PasswordPolicy: Record<string, unknown> }).PasswordPolicy,
    },
    client: {
      explicitAuthFlows: client.Properties.ExplicitAuthFlows as string[],
      preventUserExistenceErrors: client.Properties.PreventUserExistenceErrors as string,
      oauth: {
        callbackUrls: (client.Properties.CallbackURLs as string[]) ?? [],
        logoutUrls: (client.Properties.LogoutURLs as string[]) ?? [],
        scopes: (client.Properties.AllowedOAuthScopes as string[]) ?? [],
        flows: (client.Properties.AllowedOAuthFlows as string[]) ?? [],
      },
    },
  };
}

/** A bundled function of the template: its asset directory, handler, timeout and environment; undefined if not one. */
function functionBundle(resources: Record<string, Resource>, functionId: string, outdir: string): TriggerBundle | undefined {
  const fn = resources[functionId];
  const asset = fn?.Metadata?.['aws:asset:path'];
  if (fn?.Type !== 'AWS::Lambda::Function' || !asset) return undefined;
  return {
    bundleDir: path.join(outdir, asset),
    handler: typeof fn.Properties.Handler === 'string' ? fn.Properties.Handler : 'index.handler',
    timeoutSeconds: typeof fn.Properties.Timeout === 'number' ? fn.Properties.Timeout : DEFAULT_TIMEOUT_SECONDS,
    environment: (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
  };
}

/**
 * The event source mappings on the table's stream (EventSourceArn: the table's StreamArn), whatever their
 * functions are called, with their settings as Lambda applies them (its defaults where the template sets none).
 * Mappings on other sources (a queue, another stream) and disabled ones are not the sandbox's to run.
 */
export function streamConsumersOf(resources: Record<string, Resource>, tableId: string, outdir: string): StreamConsumer[] {
  const consumers: StreamConsumer[] = [];
  for (const [mappingId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const props = resource.Properties;
    if (JSON.stringify(props.EventSourceArn) !== JSON.stringify({ 'Fn::GetAtt': [tableId, 'StreamArn'] })) continue;
    if (props.Enabled === false) continue;
    const target = props.FunctionName as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | string;
    const functionId = typeof target === 'object' ? (target.Ref ?? target['Fn::GetAtt']?.[0]) : undefined;
    const bundle = functionId === undefined ? undefined : functionBundle(resources, functionId, outdir);
    if (functionId === undefined || bundle === undefined)
      throw new Error(`the event source mapping ${mappingId} on the table's stream invokes no bundled function of the template`);
    const startingPosition = props.StartingPosition;
    if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST')
      throw new Error(
        `the event source mapping ${mappingId} has StartingPosition ${JSON.stringify(startingPosition)}: the sandbox reads TRIM_HORIZON or LATEST`,
      );
    const filters = ((props.FilterCriteria as { Filters?: Array<{ Pattern: string }> } | undefined)?.Filters ?? []).map((filter, i) => {
      const pattern = JSON.parse(filter.Pattern) as FilterPattern;
      checkPattern(pattern, `${mappingId} filter ${i + 1}`);
      return pattern;
    });
    const number = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
    const destination = (props.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination as
      { 'Fn::GetAtt'?: [string, string]; Ref?: string } | string | undefined;
    const cdkPath = resources[functionId].Metadata?.['aws:cdk:path']?.split('/') ?? [];
    const constructId = cdkPath.length >= 2 && cdkPath[cdkPath.length - 1] === 'Resource' ? cdkPath[cdkPath.length - 2] : functionId;
    consumers.push({
      ...bundle,
      name: constructId.charAt(0).toUpperCase() + constructId.slice(1),
      logicalId: functionId,
      mappingId,
      mapping: {
        batchSize: number(props.BatchSize, DEFAULT_MAPPING.batchSize),
        startingPosition,
        maximumRetryAttempts: number(props.MaximumRetryAttempts, DEFAULT_MAPPING.maximumRetryAttempts),
        maximumRecordAgeInSeconds: number(props.MaximumRecordAgeInSeconds, DEFAULT_MAPPING.maximumRecordAgeInSeconds),
        bisectBatchOnFunctionError: props.BisectBatchOnFunctionError === true,
        reportBatchItemFailures: ((props.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
        filters,
      },
      ...(destination === undefined
        ? {}
        : { onFailure: typeof destination === 'string' ? destination : (destination.Ref ?? destination['Fn::GetAtt']?.[0] ?? 'destination') }),
    });
  }
  // Two mappings of one function share its name; two functions with one construct id (in different scopes) do not.
  return consumers.map((consumer) =>
    consumers.some((other) => other.name === consumer.name && other.logicalId !== consumer.logicalId)
      ? { ...consumer, name: consumer.logicalId }
      : consumer,
  );
}

/**
 * A function's environment as plain strings: a `Ref` to a resource the sandbox stands in for (the table, the
 * pool) becomes the local name or id given in `refs`. Any other CloudFormation expression has no local meaning,
 * so it is an error rather than a silent guess.
 */
export function localEnvironment(environment: Record<string, unknown>, refs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment)) {
    const ref = (value as { Ref?: unknown } | null)?.Ref;
    if (typeof value === 'string') env[key] = value;
    else if (typeof ref === 'string' && refs[ref] !== undefined && Object.keys(value as object).length === 1) env[key] = refs[ref];
    else throw new Error(`environment variable ${key} is a CloudFormation expression (${JSON.stringify(value)}) the sandbox cannot resolve`);
  }
  return env;
}
