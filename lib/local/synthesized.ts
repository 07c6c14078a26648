import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../app';

/**
 * What the local sandbox takes from the synthesized CDK app, so that it runs what `cdk deploy` would deploy:
 * the table's key schema and TTL attribute, each trigger's bundle and environment, and the pool and client
 * settings that matter to sign-in.
 */
export type TriggerName = 'PreAuthentication' | 'PostAuthentication' | 'PreSignUp';
/** Wired only when its setting is on (unlockOnPasswordReset). */
export type OptionalTriggerName = 'PostConfirmation' | 'PreTokenGeneration';

export interface SandboxBlueprint {
  readonly stackName: string;
  readonly table: { readonly logicalId: string; readonly partitionKey: string; readonly ttlAttribute: string };
  readonly triggers: Record<TriggerName, TriggerBundle> & Partial<Record<OptionalTriggerName, TriggerBundle>>;
  /** The lock-notice function (notifyUser), which pre-authentication invokes by name; absent when off. */
  readonly notifier?: TriggerBundle & { readonly logicalId: string };
  readonly pool: { readonly usernameAttributes: string[]; readonly caseSensitive: boolean; readonly passwordPolicy: Record<string, unknown> };
  readonly client: {
    readonly explicitAuthFlows: string[];
    readonly preventUserExistenceErrors: string;
    /** The OAuth settings the managed login pages check. */
    readonly oauth: { readonly callbackUrls: string[]; readonly logoutUrls: string[]; readonly scopes: string[]; readonly flows: string[] };
  };
}

export interface TriggerBundle {
  readonly bundleDir: string;
  readonly environment: Record<string, unknown>;
}

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, string> };

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
  const [, pool] = only('AWS::Cognito::UserPool');
  const [, client] = only('AWS::Cognito::UserPoolClient');

  const lambdaConfig = pool.Properties.LambdaConfig as Record<string, { 'Fn::GetAtt': [string, string] }>;
  const triggers = {} as Record<TriggerName, TriggerBundle> & Partial<Record<OptionalTriggerName, TriggerBundle>>;
  for (const name of ['PreAuthentication', 'PostAuthentication', 'PreSignUp', 'PostConfirmation', 'PreTokenGeneration'] as const) {
    const functionId = lambdaConfig?.[name]?.['Fn::GetAtt']?.[0];
    if (functionId === undefined && (name === 'PostConfirmation' || name === 'PreTokenGeneration')) continue;
    const fn = functionId === undefined ? undefined : resources[functionId];
    const asset = fn?.Metadata?.['aws:asset:path'];
    if (!fn || !asset) throw new Error(`the template wires no bundled ${name} function`);
    triggers[name] = {
      bundleDir: path.join(outdir, asset),
      environment: (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    };
  }

  const notifierRef = (triggers.PreAuthentication.environment.LOCKOUT_NOTIFY_FUNCTION as { Ref?: string } | undefined)?.Ref;
  const notifierResource = notifierRef === undefined ? undefined : resources[notifierRef];
  const notifierAsset = notifierResource?.Metadata?.['aws:asset:path'];
  const notifier =
    notifierRef !== undefined && notifierResource !== undefined && notifierAsset !== undefined
      ? {
          logicalId: notifierRef,
          bundleDir: path.join(outdir, notifierAsset),
          environment: (notifierResource.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
        }
      : undefined;

  return {
    stackName,
    notifier,
    table: { logicalId: tableId, partitionKey: keySchema.find((k) => k.KeyType === 'HASH')!.AttributeName, ttlAttribute: ttl.AttributeName },
    triggers,
    pool: {
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

/**
 * A trigger's environment as plain strings: the table reference becomes the local table's name. Any other
 * CloudFormation expression has no local meaning, so it is an error rather than a silent guess.
 */
export function localEnvironment(
  environment: Record<string, unknown>,
  tableLogicalId: string,
  tableName: string,
  functionNames: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment)) {
    const ref = (value as { Ref?: unknown } | null)?.Ref;
    if (typeof value === 'string') env[key] = value;
    else if (JSON.stringify(value) === JSON.stringify({ Ref: tableLogicalId })) env[key] = tableName;
    else if (typeof ref === 'string' && functionNames[ref] !== undefined && Object.keys(value as object).length === 1) env[key] = functionNames[ref];
    else throw new Error(`environment variable ${key} is a CloudFormation expression (${JSON.stringify(value)}) the sandbox cannot resolve`);
  }
  return env;
}
