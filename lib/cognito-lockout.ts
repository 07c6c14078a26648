import * as path from 'node:path';
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import { type IUserPool, UserPool, UserPoolOperation } from 'aws-cdk-lib/aws-cognito';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type IFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogLevel as BundlingLogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { TABLE_NAME_ENV } from '../lambdas/engine/config';
import type { KeyScope } from '../lambdas/engine/identity';
import { settingsToEnv } from '../lambdas/engine/settings';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../lambdas/engine/store';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../lambdas/engine/telemetry';
import { EVENT_BUS_ENV } from '../lambdas/engine/event-publisher';
import { type LockoutPolicyProps, settingsFromProps } from './lockout-props';
import { LockoutMonitoring, type LockoutMonitoringProps } from './lockout-monitoring';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface CognitoLockoutProps extends LockoutPolicyProps {
  /**
   * The user pool to protect. A `UserPool` defined in this app gets the triggers wired; an imported pool
   * (`UserPool.fromUserPoolId`) cannot be changed by CloudFormation, so the construct only grants Cognito
   * permission to invoke the functions, and you attach them yourself (see the README).
   */
  readonly userPool: IUserPool;
  /**
   * Attach the pre-signup trigger that limits self-service sign-ups.
   * @default true
   */
  readonly signUpLimits?: boolean;
  /**
   * What happens to the lockout table and log groups when the stack is deleted. Use `RemovalPolicy.DESTROY`
   * for development stacks only: the table holds active locks.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Retention of each trigger's log group.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: RetentionDays;
  /**
   * Log level of the triggers (Powertools `POWERTOOLS_LOG_LEVEL`). INFO logs one line per decision.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * Send an `AccountLocked` event (source `cognito-lockout`) to an EventBridge bus whenever a sign-in lockout
   * starts; `false` sends none. The admin CLI sends `AccountLocked` / `AccountUnlocked` for operator actions.
   * @default - the account's default event bus
   */
  readonly lockoutEvents?: IEventBus | false;
  /**
   * CloudWatch alarms (credential stuffing, store errors, trigger failures, latency) and a dashboard; `false`
   * creates none.
   * @default - alarms and a dashboard with the defaults of LockoutMonitoringProps
   */
  readonly monitoring?: LockoutMonitoringProps | false;
}

/**
 * Cognito waits 5 s for a trigger. The store budget is at most 2.5 s; pre-authentication spends what remains
 * of the 3 s, less a margin, on a lockout event at most; the rest is room for a cold start.
 */
const FUNCTION_TIMEOUT = Duration.seconds(3);
/** Replaces the SDK's default credential chain in the bundles; Lambda supplies credentials in the environment. */
const ENV_CREDENTIALS_MODULE = path.join(__dirname, '..', 'lambdas', 'engine', 'env-credentials.ts');
/** Every key a trigger writes starts with its scope: the IAM condition confines each function to its own keys. */
const KEY_SCOPES = {
  preAuthentication: ['signin'],
  postAuthentication: ['signin'],
  preSignUp: ['signup-username', 'signup-email', 'signup-phone', 'signup-email-domain', 'signup-phone-prefix'],
} as const satisfies Record<string, readonly KeyScope[]>;

/**
 * Configurable account lockout for a Cognito user pool: a DynamoDB table of lockout state and the
 * pre-authentication, post-authentication and (optionally) pre-signup triggers that maintain it.
 */
export class CognitoLockout extends Construct {
  /** The lockout state table. */
  readonly table: Table;
  /** Counts attempts and refuses locked identities. */
  readonly preAuthenticationFunction: NodejsFunction;
  /** Clears failures after a successful sign-in. */
  readonly postAuthenticationFunction: NodejsFunction;
  /** Limits self-service sign-ups; undefined when `signUpLimits` is false. */
  readonly preSignUpFunction?: NodejsFunction;
  /** The bus AccountLocked events go to; undefined when events are off. */
  readonly eventBus?: IEventBus;
  /** Alarms and dashboard; undefined when `monitoring` is false. */
  readonly monitoring?: LockoutMonitoring;

  constructor(scope: Construct, id: string, props: CognitoLockoutProps) {
    super(scope, id);
    const settings = settingsFromProps(props, 'CognitoLockout');
    if (props.logLevel !== undefined && !['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(props.logLevel)) {
      throw new Error(`CognitoLockout: logLevel must be one of "DEBUG", "INFO", "WARN", "ERROR", got ${JSON.stringify(props.logLevel)}`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    // Key schema, TTL attribute and encryption are the engine's invariants: not props.
    this.table = new Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy,
    });

    const environment: Record<string, string> = {
      [TABLE_NAME_ENV]: this.table.tableName,
      // Unresolved tokens go in as their string form, which CloudFormation resolves at deploy time.
      ...settingsToEnv(settings, (value) => (Token.isUnresolved(value) ? Token.asString(value) : String(value))),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const make = (name: keyof typeof KEY_SCOPES, entry: string, actions: string[]) =>
      this.triggerFunction(name, entry, actions, KEY_SCOPES[name], environment, props.logRetention ?? RetentionDays.ONE_YEAR, removalPolicy);

    this.eventBus = props.lockoutEvents === false ? undefined : (props.lockoutEvents ?? EventBus.fromEventBusName(this, 'DefaultEventBus', 'default'));
    this.preAuthenticationFunction = make('preAuthentication', 'pre-authentication', ['dynamodb:UpdateItem', 'dynamodb:PutItem']);
    if (this.eventBus) {
      this.preAuthenticationFunction.addEnvironment(EVENT_BUS_ENV, this.eventBus.eventBusName);
      this.eventBus.grantPutEventsTo(this.preAuthenticationFunction);
    }
    this.postAuthenticationFunction = make('postAuthentication', 'post-authentication', ['dynamodb:DeleteItem']);
    if (props.signUpLimits ?? true) this.preSignUpFunction = make('preSignUp', 'pre-signup', ['dynamodb:UpdateItem', 'dynamodb:PutItem']);

    if (props.monitoring !== false) {
      this.monitoring = new LockoutMonitoring(
        this,
        'Monitoring',
        { PreAuthentication: this.preAuthenticationFunction, PostAuthentication: this.postAuthenticationFunction, PreSignUp: this.preSignUpFunction },
        props.monitoring,
      );
    }

    const triggers: Array<[UserPoolOperation, IFunction | undefined]> = [
      [UserPoolOperation.PRE_AUTHENTICATION, this.preAuthenticationFunction],
      [UserPoolOperation.POST_AUTHENTICATION, this.postAuthenticationFunction],
      [UserPoolOperation.PRE_SIGN_UP, this.preSignUpFunction],
    ];
    for (const [operation, fn] of triggers) {
      if (fn === undefined) continue;
      if (props.userPool instanceof UserPool) {
        // Also grants Cognito lambda:InvokeFunction, scoped to this pool.
        props.userPool.addTrigger(operation, fn);
      } else {
        fn.addPermission(`${operation.operationName}CognitoInvoke`, {
          principal: new ServicePrincipal('cognito-idp.amazonaws.com'),
          sourceArn: props.userPool.userPoolArn,
        });
      }
    }
  }

  private triggerFunction(
    name: string,
    entry: string,
    actions: string[],
    scopes: readonly KeyScope[],
    environment: Record<string, string>,
    retention: RetentionDays,
    removalPolicy: RemovalPolicy,
  ): NodejsFunction {
    const logGroup = new LogGroup(this, `${name}Logs`, { retention, removalPolicy });
    // An explicit role instead of the AWS managed basic-execution policy: it may write to its own log group and
    // touch only its own keys of its own table. It never reads the pool, which would also make a circular
    // dependency between the pool and its triggers.
    const role = new Role(this, `${name}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions,
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': scopes.map((scope) => `${scope}#*`) } },
      }),
    );
    return new NodejsFunction(this, name, {
      entry: path.join(__dirname, '..', 'lambdas', `${entry}.ts`),
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: FUNCTION_TIMEOUT,
      role,
      logGroup,
      environment,
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node24',
        format: OutputFormat.CJS,
        // Bundle the SDK instead of using the runtime's copy: the deadline relies on recent SDK behaviour
        // (throwOnRequestTimeout), and the code that runs is then exactly the code that was tested.
        externalModules: [],
        // The SDK's ES module builds let esbuild drop the DynamoDB commands the triggers never send.
        mainFields: ['module', 'main'],
        esbuildArgs: { '--alias:@aws-sdk/credential-provider-node': ENV_CREDENTIALS_MODULE },
        forceDockerBundling: false,
        logLevel: BundlingLogLevel.WARNING,
      },
    });
  }
}
