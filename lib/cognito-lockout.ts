import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Annotations, CfnOutput, Duration, Lazy, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { type IUserPool, UserPool, UserPoolOperation } from 'aws-cdk-lib/aws-cognito';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  Code,
  FilterCriteria,
  Function as LambdaFunction,
  type IEventSourceDlq,
  type IFunction,
  Runtime,
  RuntimeFamily,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  DEVICE_KEY_READERS,
  DEVICE_KEY_SECRET_ENV,
  EVENT_BUS_ENV,
  EVENT_SOURCE,
  NOTICES_ENV,
  NOTIFY_FROM_ENV,
  NOTIFY_MAX_PER_HOUR_ENV,
  NOTIFY_RECIPIENT_PERIOD_ENV,
  NOTIFY_SUBJECT_ENV,
  NOTIFY_TEXT_ENV,
  USER_POOL_ID_ENV,
  type KeyScope,
  METRICS_NAMESPACE,
  PARTITION_KEY,
  SERVICE_NAME,
  SIGN_IN_CASE_SENSITIVE_ENV,
  TABLE_NAME_ENV,
  TARGETS_OUTPUT_DESCRIPTION,
  TRIGGER_KEY_SCOPES,
  LAMBDA_NODE_MAJOR,
  TRIGGER_TIMEOUT_MS,
  TTL_ATTRIBUTE,
} from '../lambdas/shared/contract';
import { ANNOUNCER_FILTERS, NOTIFIER_FILTERS } from '../lambdas/outbox/outbox';
import { noticeSubjectProblem, noticeTextProblem } from '../lambdas/outbox/notice-text';
import { settingsToEnv } from '../lambdas/policy/settings';
import { checkTriggerBudgets } from './budget-checks';
import { type LockoutPolicyProps, settingsFromProps } from './lockout-props';
import { LockoutMonitoring, type LockoutMonitoringProps } from './lockout-monitoring';
import { type PoolRisk, checkPoolAtSynth, poolCaseSensitivity } from './pool-checks';

/** How much the functions log (Powertools `POWERTOOLS_LOG_LEVEL`). */
export enum LogLevel {
  DEBUG = 'DEBUG',
  /** One line per decision. */
  INFO = 'INFO',
  WARN = 'WARN',
  ERROR = 'ERROR',
}

/** Functions you own that run the lockout's logic; see `CognitoLockoutProps.ownFunctions`. */
export interface OwnTriggerFunctions {
  /** Calls `preAuthenticationHandler()` from `cognito-lockout/triggers`. */
  readonly preAuthentication?: LambdaFunction;
  /** Calls `postAuthenticationHandler()` from `cognito-lockout/triggers`. */
  readonly postAuthentication?: LambdaFunction;
  /** Calls `preSignUpHandler()` from `cognito-lockout/triggers`. */
  readonly preSignUp?: LambdaFunction;
  /** Calls `postConfirmationHandler()` from `cognito-lockout/triggers`. */
  readonly postConfirmation?: LambdaFunction;
  /** Calls `preTokenGenerationHandler()` from `cognito-lockout/triggers`. */
  readonly preTokenGeneration?: LambdaFunction;
}

/** The lock notice email; see `CognitoLockoutProps.notifyUser`. */
export interface NotifyUserProps {
  /**
   * The sender: an address verified in Amazon SES (or in a verified domain) in the stack's Region. Named as in
   * `UserPoolEmail.withSES({ fromEmail })` (`from` is a reserved word in Python).
   */
  readonly fromEmail: string;
  /**
   * The subject line.
   * @default 'Your account was locked'
   */
  readonly subject?: string;
  /**
   * The plain-text body. `{until}` becomes the lock's end (for a permanent lock, that support must unlock it) and
   * `{reset}` the sentence saying a password reset unlocks it now, or nothing when a reset would not.
   * @default - says the account was locked after failed attempts, until when (or to contact support), and, when a
   * reset would lift the lock, that resetting the password unlocks it now
   */
  readonly text?: string;
  /**
   * At most one notice per recipient per this period, however many locks an attacker causes.
   * @default Duration.hours(24)
   */
  readonly perRecipientPeriod?: Duration;
  /**
   * At most this many notices per clock hour over all recipients: past it, notices are dropped and counted
   * (`NoticesCapped`, alarmed), so a storm over many accounts cannot exhaust the SES quota.
   * @default 500
   */
  readonly maxPerHour?: number;
}

/** See `CognitoLockout.MIN_AWS_CDK_LIB_VERSION`. */
const MIN_AWS_CDK_LIB_VERSION = '2.252.0';
/** The first aws-cdk-lib whose `Validations.acknowledge` takes a finding containing `::` (`[Resource::*]`). */
const FINDING_ACKNOWLEDGEMENTS_SINCE = '2.270.0';

export interface CognitoLockoutProps extends LockoutPolicyProps {
  /**
   * The user pool to protect. A `UserPool` defined in this app gets the triggers wired; an imported pool
   * (`UserPool.fromUserPoolId`) cannot be changed by CloudFormation, so the construct only grants Cognito
   * permission to invoke the functions, and you attach them yourself (docs/construct.md, docs/configuration.md "Pools that already have triggers").
   */
  readonly userPool: IUserPool;
  /**
   * Whether the pool compares sign-in names case-sensitively (its `UsernameConfiguration.CaseSensitive`). The lockout
   * keys names Cognito does not know exactly as the pool compares them, so that attempts on a variant never tell
   * whether a name exists. Read from the pool when it is a `UserPool` of this app; required for any other pool.
   * @default - read from the pool
   */
  readonly signInCaseSensitive?: boolean;
  /**
   * Pool and client settings the construct would otherwise refuse (an error at synth) or warn about, accepted
   * because you know why: see `PoolRisk` and docs/configuration.md, "What the construct checks".
   * @default - none: every check applies
   */
  readonly acceptedPoolRisks?: PoolRisk[];
  /**
   * Attach the pre-signup trigger that limits self-service sign-ups.
   * @default true
   */
  readonly signUpLimits?: boolean;
  /**
   * Your own trigger functions, for a pool that already has these triggers: each runs the lockout's logic from
   * `cognito-lockout/triggers` in its handler. For each one given, the construct creates no function and wires
   * nothing for that trigger; it gives yours the table grants (its own key prefixes only), the environment the
   * logic reads, and for pre-authentication the right to send lockout events. You keep attaching your function
   * to the pool as before.
   * @default - the construct creates and attaches its own functions
   */
  readonly ownFunctions?: OwnTriggerFunctions;
  /**
   * Email the account's owner once when a sign-in lock of the account starts (not a lock of one familiar device's
   * bucket, which leaves the account signing in): that it was locked after failed attempts, until
   * when, and (when it would) that resetting the password unlocks it now. Known users with a verified email only;
   * unknown names get nothing. Sent through Amazon SES by a function of the construct's that reads lock starts
   * from the table's stream, so no sign-in ever waits for it; at most one per lock, one per recipient per
   * `perRecipientPeriod` and `maxPerHour` in all. Its IAM role may send as `from` only and read the pool's users.
   * @default - no notices
   */
  readonly notifyUser?: NotifyUserProps;
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
   * @default LogLevel.INFO
   */
  readonly logLevel?: LogLevel;
  /**
   * Send an `AccountLocked` event (source `cognito-lockout`) to an EventBridge bus whenever a sign-in lockout
   * starts, and `AccountUnlocked` when a lock is lifted; false sends none. The admin CLI sends `AccountLocked` /
   * `AccountUnlocked` for operator actions.
   * @default true
   */
  readonly lockoutEvents?: boolean;
  /**
   * The bus lockout events go to (with `lockoutEvents` true).
   * @default - the account's default event bus
   */
  readonly lockoutEventBus?: IEventBus;
  /**
   * CloudWatch alarms (credential stuffing, store errors, trigger failures, latency) and a dashboard; false creates
   * none.
   * @default true
   */
  readonly monitoring?: boolean;
  /**
   * Thresholds, notifications and the dashboard of the monitoring (with `monitoring` true).
   * @default - the defaults of LockoutMonitoringProps
   */
  readonly monitoringOptions?: LockoutMonitoringProps;
}

/**
 * Cognito waits 5 s for a trigger, cold start included: 3 s for the function leaves 2 s for Lambda's init. What a
 * trigger waits for within it is counted at synth (budget-checks.ts).
 */
const FUNCTION_TIMEOUT = Duration.millis(TRIGGER_TIMEOUT_MS);
/** `nodejs24.x` today: the major is set once, in the contract, for the runtime, the bundles' target and CI. */
const LAMBDA_RUNTIME = new Runtime(`nodejs${LAMBDA_NODE_MAJOR}.x`, RuntimeFamily.NODEJS, { supportsInlineCode: true });
/**
 * The stream consumers answer no one waiting: room for a batch of their slow paths (a notice's lookup, writes and
 * send, each bounded by its client's timeouts) rather than a trigger's budget.
 */
const CONSUMER_TIMEOUT = Duration.minutes(2);
/**
 * Retries of a failing stream batch before its records go to the failure queue: enough to ride out a short
 * EventBridge, SES or DynamoDB outage; `maxRecordAge` (a day, the stream's retention) bounds them too.
 */
const STREAM_RETRY_ATTEMPTS = 50;
/** Every key a trigger writes starts with its scope: the IAM condition confines each function to its own keys. */
const KEY_SCOPES = {
  preAuthentication: TRIGGER_KEY_SCOPES.PreAuthentication,
  postAuthentication: TRIGGER_KEY_SCOPES.PostAuthentication,
  preSignUp: TRIGGER_KEY_SCOPES.PreSignUp,
  postConfirmation: TRIGGER_KEY_SCOPES.PostConfirmation,
  preTokenGeneration: TRIGGER_KEY_SCOPES.PreTokenGeneration,
} as const;

/**
 * Configurable account lockout for a Cognito user pool: a DynamoDB table of lockout state and the
 * pre-authentication, post-authentication and (optionally) pre-signup triggers that maintain it.
 */
export class CognitoLockout extends Construct {
  /** The CloudWatch namespace of the lockout's own metrics (Embedded Metric Format). */
  static readonly METRICS_NAMESPACE: string = METRICS_NAMESPACE;
  /** The `source` of every event the lockout sends to EventBridge. */
  static readonly EVENT_SOURCE: string = EVENT_SOURCE;
  /**
   * The oldest aws-cdk-lib with everything the construct and the stack use, found by synthesizing the stack from
   * the packed tarball against each release (2026-11-22): `Runtime.NODEJS_24_X` arrived in 2.224.0, `Validations`
   * in 2.251.0 and its `acknowledge` (cdk-nag 3 acknowledgements in the stack) in 2.252.0. Older releases fail
   * with a TypeError deep in synth, or synthesize silently wrong templates (an older runtime), so they are refused
   * up front, naming the version needed. The Python consumer app in CI installs exactly this release.
   */
  static readonly MIN_AWS_CDK_LIB_VERSION: string = MIN_AWS_CDK_LIB_VERSION;

  /** The lockout state table. */
  readonly table: Table;
  /** Counts attempts and refuses locked identities. */
  readonly preAuthenticationFunction: LambdaFunction;
  /** Clears failures after a successful sign-in; undefined when `successSignal` is PRE_TOKEN_GENERATION. */
  readonly postAuthenticationFunction?: LambdaFunction;
  /** Clears failures and issues device tokens at a sign-in; undefined when `successSignal` is POST_AUTHENTICATION and `deviceTokens` false. */
  readonly preTokenGenerationFunction?: LambdaFunction;
  /** Limits self-service sign-ups; undefined when `signUpLimits` is false. */
  readonly preSignUpFunction?: LambdaFunction;
  /** Sends the lock notice email, reading notice requests from the table's stream; undefined without `notifyUser`. */
  readonly notifyUserFunction?: LambdaFunction;
  /** Reads lock starts and lifts from the table's stream: publishes events, requests notices; undefined when both are off. */
  readonly announcerFunction?: LambdaFunction;
  /** Where stream records go that the announcer or the notifier could not handle after their retries. */
  readonly streamFailures?: Queue;
  /** Lifts a sign-in lock after a confirmed password reset; undefined when `unlockOnPasswordReset` is OFF. */
  readonly postConfirmationFunction?: LambdaFunction;
  /** The bus AccountLocked events go to; undefined when `lockoutEvents` is false. */
  readonly eventBus?: IEventBus;
  /** Alarms and dashboard; undefined when `monitoring` is false. */
  readonly monitoring?: LockoutMonitoring;
  /**
   * The device token keys (docs/security-model.md, "Familiar devices"); undefined when `deviceTokens` is false. Generated by
   * Secrets Manager at deploy time: the value is in no template, output or log. Rotate with the admin CLI's
   * `rotate-device-key`, which keeps the previous key valid.
   */
  readonly deviceKeySecret?: Secret;
  /** Whether the aws-cdk-lib this app loads can acknowledge a finding containing `::` (read once, at construction). */
  private readonly acknowledgesFindings: boolean;

  constructor(scope: Construct, id: string, props: CognitoLockoutProps) {
    super(scope, id);
    const version = cdkLibVersion();
    checkCdkVersion(version);
    this.acknowledgesFindings = cdkLibAtLeast(version, FINDING_ACKNOWLEDGEMENTS_SINCE);
    const settings = settingsFromProps(props, 'CognitoLockout');
    if (props.logLevel !== undefined && !Token.isUnresolved(props.logLevel) && !Object.values(LogLevel).includes(props.logLevel)) {
      const members = Object.keys(LogLevel).map((member) => `LogLevel.${member}`);
      throw new Error(`CognitoLockout: logLevel must be one of ${members.join(', ')}, got ${JSON.stringify(props.logLevel)}`);
    }
    checkSwitchedProp(props.lockoutEvents, 'lockoutEvents', props.lockoutEventBus, 'lockoutEventBus');
    checkSwitchedProp(props.monitoring, 'monitoring', props.monitoringOptions, 'monitoringOptions');
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const caseSensitive = poolCaseSensitivity(props.userPool, props.signInCaseSensitive);
    checkPoolAtSynth(this, props.userPool, caseSensitive, props.acceptedPoolRisks ?? []);

    // Key schema, TTL attribute and encryption are the engine's invariants: not props.
    this.table = new Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      // The outbox (lambdas/outbox/outbox.ts): lock starts and lifts are read from here, never sent by a decision.
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      removalPolicy,
    });

    const environment: Record<string, string> = {
      [TABLE_NAME_ENV]: this.table.tableName,
      // Read when the app is synthesized: whatever changed the pool after this line counts.
      [SIGN_IN_CASE_SENSITIVE_ENV]: Lazy.string({ produce: () => String(caseSensitive()) }),
      // Unresolved tokens go in as their string form, which CloudFormation resolves at deploy time.
      ...settingsToEnv(settings, (value) => (Token.isUnresolved(value) ? Token.asString(value) : String(value))),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? LogLevel.INFO,
      NODE_OPTIONS: '--enable-source-maps',
    };
    const own = props.ownFunctions ?? {};
    const retention = props.logRetention ?? RetentionDays.ONE_YEAR;
    if (settings.deviceTokens === 'on') {
      this.deviceKeySecret = new Secret(this, 'DeviceTokenKey', {
        description: 'cognito-lockout device token signing keys (rotate with the admin CLI: rotate-device-key)',
        generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'key', passwordLength: 64, excludePunctuation: true },
        removalPolicy,
      });
      Validations.of(this.deviceKeySecret).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SMG4',
        reason:
          'Rotated by the admin CLI (rotate-device-key), which writes the new key with a later signFrom and keeps the previous one: a ' +
          'rotation Lambda could not give every warm instance the new key before it signs (docs/security-model.md, "Familiar devices").',
      });
    }
    // Only the functions that sign or check device tokens (DEVICE_KEY_READERS) are told where the key is, and may read it.
    const keyReaders = new Set<string>(DEVICE_KEY_READERS.map((trigger) => trigger[0].toLowerCase() + trigger.slice(1)));
    const make = (name: keyof typeof KEY_SCOPES, entry: string, actions: string[]): LambdaFunction => {
      const statements = [this.keyStatement(actions, KEY_SCOPES[name])];
      const env = { ...environment };
      if (this.deviceKeySecret !== undefined && keyReaders.has(name)) {
        statements.push(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.deviceKeySecret.secretArn] }));
        env[DEVICE_KEY_SECRET_ENV] = this.deviceKeySecret.secretArn;
      }
      const theirs = own[name];
      if (theirs === undefined) return this.lockoutFunction(name, entry, statements, env, retention, removalPolicy, FUNCTION_TIMEOUT);
      for (const statement of statements) theirs.addToRolePolicy(statement);
      for (const [key, value] of Object.entries(env)) theirs.addEnvironment(key, value);
      return theirs;
    };

    this.eventBus =
      props.lockoutEvents === false ? undefined : (props.lockoutEventBus ?? EventBus.fromEventBusName(this, 'DefaultEventBus', 'default'));
    this.preAuthenticationFunction = make('preAuthentication', 'pre-authentication', ['dynamodb:UpdateItem', 'dynamodb:PutItem']);
    if (settings.successSignal !== 'pre-token-generation') {
      // UpdateItem only: a success zeroes its item rather than deleting it, keeping the stamp the accounting reads, and
      // marks an uncounted sign-in on it (store.ts, accounting.ts).
      this.postAuthenticationFunction = make('postAuthentication', 'post-authentication', ['dynamodb:UpdateItem']);
    }
    // Pre token generation issues the device tokens, and may be a success signal besides.
    if (settings.successSignal !== 'post-authentication' || settings.deviceTokens === 'on') {
      // GetItem: the device-bucket tidy-up reads the user's devices item before its conditional UpdateItem (store.ts
      // pruneDevices), on `signin#` keys like every other request of this function.
      this.preTokenGenerationFunction = make('preTokenGeneration', 'pre-token-generation', ['dynamodb:UpdateItem', 'dynamodb:GetItem']);
    }
    if (props.signUpLimits ?? true) this.preSignUpFunction = make('preSignUp', 'pre-signup', ['dynamodb:UpdateItem', 'dynamodb:PutItem']);
    if (settings.unlockOnPasswordReset !== 'off') {
      // One UpdateItem that clears and leaves `clearedAt` behind (store.ts): no DeleteItem.
      this.postConfirmationFunction = make('postConfirmation', 'post-confirmation', ['dynamodb:UpdateItem']);
    }

    const whose = (key: keyof OwnTriggerFunctions) => (own[key] === undefined ? 'ours' : 'theirs') as 'ours' | 'theirs';
    checkTriggerBudgets('CognitoLockout', settings, [
      ['PreAuthentication', this.preAuthenticationFunction, whose('preAuthentication')],
      ['PostAuthentication', this.postAuthenticationFunction, whose('postAuthentication')],
      ['PreTokenGeneration', this.preTokenGenerationFunction, whose('preTokenGeneration')],
      ['PreSignUp', this.preSignUpFunction, whose('preSignUp')],
      ['PostConfirmation', this.postConfirmationFunction, whose('postConfirmation')],
    ]);

    if (this.eventBus !== undefined || props.notifyUser !== undefined) {
      this.streamFailures = new Queue(this, 'StreamFailures', {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy,
      });
      Validations.of(this.streamFailures).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SQS3',
        reason: "This queue is the stream event source mappings' failure destination (their dead-letter queue); nothing consumes it to fail.",
      });
      const consumerEnvironment = { ...environment, [USER_POOL_ID_ENV]: props.userPool.userPoolId };
      // The announcer writes notice requests only when there is a notifier to read them: no table access otherwise.
      const announcerStatements = props.notifyUser === undefined ? [] : [this.keyStatement(['dynamodb:PutItem'], TRIGGER_KEY_SCOPES.Announcer)];
      if (this.eventBus !== undefined) {
        // Events with the construct's source only: the role cannot speak for anything else on the bus.
        announcerStatements.push(
          new PolicyStatement({
            actions: ['events:PutEvents'],
            resources: [this.eventBus.eventBusArn],
            conditions: { StringEquals: { 'events:source': EVENT_SOURCE } },
          }),
        );
      }
      this.announcerFunction = this.lockoutFunction(
        'announcer',
        'announcer',
        announcerStatements,
        {
          ...consumerEnvironment,
          ...(this.eventBus === undefined ? {} : { [EVENT_BUS_ENV]: this.eventBus.eventBusName }),
          [NOTICES_ENV]: props.notifyUser === undefined ? 'off' : 'on',
        },
        retention,
        removalPolicy,
        CONSUMER_TIMEOUT,
      );
      this.consumeStream(this.announcerFunction, ANNOUNCER_FILTERS, this.streamFailures, 10);
      if (props.notifyUser !== undefined) {
        this.notifyUserFunction = this.notifier(props.notifyUser, props.userPool, retention, removalPolicy);
        // Each notice is a lookup, three or four writes and one send, handled one after the other: small batches.
        this.consumeStream(this.notifyUserFunction, NOTIFIER_FILTERS, this.streamFailures, 5);
      }
    }

    // Where `npx cognito-lockout --stack NAME` acts, found by the output's description in whatever stack holds this.
    new CfnOutput(this, 'AdminTargets', {
      description: TARGETS_OUTPUT_DESCRIPTION,
      value: Stack.of(this).toJsonString({
        table: this.table.tableName,
        userPoolId: props.userPool.userPoolId,
        eventBus: this.eventBus?.eventBusName ?? null,
        deviceKeySecret: this.deviceKeySecret?.secretArn ?? null,
      }),
    });

    if (props.monitoring !== false) {
      this.monitoring = new LockoutMonitoring(this, 'Monitoring', {
        ...props.monitoringOptions,
        triggers: {
          preAuthentication: this.preAuthenticationFunction,
          postAuthentication: this.postAuthenticationFunction,
          preSignUp: this.preSignUpFunction,
          postConfirmation: this.postConfirmationFunction,
          preTokenGeneration: this.preTokenGenerationFunction,
        },
        outbox: { announcer: this.announcerFunction, notifier: this.notifyUserFunction, failures: this.streamFailures },
        deviceTokens: this.deviceKeySecret !== undefined,
      });
    }

    const triggers: Array<[UserPoolOperation, keyof OwnTriggerFunctions, IFunction | undefined]> = [
      [UserPoolOperation.PRE_AUTHENTICATION, 'preAuthentication', this.preAuthenticationFunction],
      [UserPoolOperation.POST_AUTHENTICATION, 'postAuthentication', this.postAuthenticationFunction],
      [UserPoolOperation.PRE_SIGN_UP, 'preSignUp', this.preSignUpFunction],
      [UserPoolOperation.POST_CONFIRMATION, 'postConfirmation', this.postConfirmationFunction],
      [UserPoolOperation.PRE_TOKEN_GENERATION, 'preTokenGeneration', this.preTokenGenerationFunction],
    ];
    const title = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);
    const imported = !(props.userPool instanceof UserPool);
    for (const [operation, key, fn] of triggers) {
      // Your own function is attached by you, as before.
      if (fn === undefined || own[key] !== undefined) continue;
      if (!imported) {
        // Also grants Cognito lambda:InvokeFunction, scoped to this pool.
        attachTrigger(props.userPool as UserPool, operation, key, title(key), fn);
      } else {
        fn.addPermission(`${operation.operationName}CognitoInvoke`, {
          principal: new ServicePrincipal('cognito-idp.amazonaws.com'),
          sourceArn: props.userPool.userPoolArn,
        });
        new CfnOutput(this, `${title(key)}FunctionArn`, { value: fn.functionArn, description: `Attach as the pool's ${title(key)} trigger` });
      }
    }
    if (imported) {
      Annotations.of(this).addWarningV2(
        'cognito-lockout:pool-not-attached',
        'The user pool is not a UserPool defined in this app (imported, or another IUserPool): CloudFormation cannot add triggers to it, ' +
          "so the lockout is NOT attached. Attach the functions whose ARNs are in this construct's outputs " +
          `(${triggers
            .filter(([, key, fn]) => fn !== undefined && own[key] === undefined)
            .map(([, key]) => `${title(key)}FunctionArn`)
            .join(', ')}) ` +
          "as the pool's triggers, in the pool's own definition or the console.",
      );
    }
  }

  /** Update rights on the table, confined by an IAM condition to the key prefixes of one trigger. */
  private keyStatement(actions: string[], scopes: readonly KeyScope[]): PolicyStatement {
    return new PolicyStatement({
      actions,
      resources: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': scopes.map((scope) => `${scope}#*`) } },
    });
  }

  /**
   * A stream consumer's event source mapping: only the records its filters name (ordinary attempts invoke nothing),
   * in order per item, failures reported per record and retried (bisected when a batch throws) for up to a day,
   * the stream's retention; what still fails goes to the failure queue (alarmed), which names the shard and
   * sequence numbers to replay from. LATEST: a consumer added to a running lockout announces what happens from
   * then on, not a day of old locks (nor emails their owners).
   */
  private consumeStream(fn: LambdaFunction, filters: readonly object[], failures: Queue, batchSize: number): void {
    // aws-cdk-lib before 2.270.0 refuses an id whose finding contains `::` ("Invalid validation rule ID"): there the
    // acknowledgement is left out (cdk-nag then reports IAM5 on the consumers' roles, with the reason below in the docs)
    // rather than the construct refusing a release that has everything else it needs.
    if (this.acknowledgesFindings) {
      Validations.of(fn.role!).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'dynamodb:ListStreams, which a stream event source mapping needs, has no resource-level permissions; every other ' +
          "statement names the table's stream, its key prefixes, the pool or the SES identity.",
      });
    }
    fn.addEventSource(
      new DynamoEventSource(this.table, {
        startingPosition: StartingPosition.LATEST,
        batchSize,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: STREAM_RETRY_ATTEMPTS,
        maxRecordAge: Duration.hours(24),
        onFailure: sendOnlyDestination(failures),
        filters: filters.map((pattern) => FilterCriteria.filter(pattern as Record<string, unknown>)),
      }),
    );
  }

  /**
   * The notifier: SES send as `from` only, the pool's users read (to find a `sub`'s address), its own notice keys
   * of the table. No resource policy: nothing but its event source mapping invokes it.
   */
  private notifier(props: NotifyUserProps, pool: IUserPool, retention: RetentionDays, removalPolicy: RemovalPolicy): LambdaFunction {
    const from = checkNotifyUser(props);
    const identities = Token.isUnresolved(from) ? ['*'] : [from, from.slice(from.lastIndexOf('@') + 1)];
    const stack = Stack.of(this);
    const send = new PolicyStatement({
      actions: ['ses:SendEmail'],
      resources: identities.map((identity) => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity })),
      conditions: { StringEquals: { 'ses:FromAddress': from } },
    });
    const readUsers = new PolicyStatement({ actions: ['cognito-idp:ListUsers'], resources: [pool.userPoolArn] });
    const notices = this.keyStatement(['dynamodb:UpdateItem'], TRIGGER_KEY_SCOPES.NotifyUser);
    const environment: Record<string, string> = {
      [TABLE_NAME_ENV]: this.table.tableName,
      [USER_POOL_ID_ENV]: pool.userPoolId,
      [NOTIFY_FROM_ENV]: from,
      ...(props.subject === undefined ? {} : { [NOTIFY_SUBJECT_ENV]: props.subject }),
      ...(props.text === undefined ? {} : { [NOTIFY_TEXT_ENV]: props.text }),
      [NOTIFY_RECIPIENT_PERIOD_ENV]: String((props.perRecipientPeriod ?? Duration.hours(24)).toSeconds()),
      [NOTIFY_MAX_PER_HOUR_ENV]: String(props.maxPerHour ?? 500),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    };
    return this.lockoutFunction('notifyUser', 'notify-user', [send, readUsers, notices], environment, retention, removalPolicy, CONSUMER_TIMEOUT);
  }

  private lockoutFunction(
    name: string,
    entry: string,
    statements: PolicyStatement[],
    environment: Record<string, string>,
    retention: RetentionDays,
    removalPolicy: RemovalPolicy,
    timeout: Duration,
  ): LambdaFunction {
    const logGroup = new LogGroup(this, `${name}Logs`, { retention, removalPolicy });
    // An explicit role instead of the AWS managed basic-execution policy: it may write to its own log group and
    // touch only its own keys of its own table. Triggers never read the pool, which would also make a circular
    // dependency between the pool and its triggers.
    const role = new Role(this, `${name}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    for (const statement of statements) role.addToPrincipalPolicy(statement);
    return new LambdaFunction(this, name, {
      // Built once by the package build (scripts/build-assets.mjs): no esbuild, Docker or TypeScript at synth.
      code: Code.fromAsset(triggerAssetDir(entry)),
      handler: 'index.handler',
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout,
      role,
      logGroup,
      environment,
    });
  }
}

/**
 * Where the package build put a trigger's bundle: `dist/assets/<name>` under the package root, found from this
 * file whether it runs as TypeScript (lib/) or compiled (dist/lib/), in this repository or installed. The
 * bundles carry their own AWS SDK: the code that runs is exactly the code that was tested, whatever the
 * runtime's copy or the consumer's versions.
 */
export function triggerAssetDir(name: string): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'dist', 'assets', name);
    if (existsSync(path.join(candidate, 'index.js'))) return candidate;
    const compiled = path.join(dir, 'assets', name);
    if (path.basename(dir) === 'dist' && existsSync(path.join(compiled, 'index.js'))) return compiled;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(
    `CognitoLockout: the ${name} bundle is missing (dist/assets/${name}/index.js). In a clone of the repository, run \`npm run build\` first; an installed package always has it.`,
  );
}

/**
 * The stream mappings' failure queue, with the one permission Lambda needs to send to it (AWS: "For SQS destinations:
 * sqs:SendMessage"). CDK's SqsDlq grants GetQueueAttributes and GetQueueUrl as well, which nothing uses.
 */
function sendOnlyDestination(queue: Queue): IEventSourceDlq {
  return {
    bind(_target, targetHandler) {
      targetHandler.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
      return { destination: queue.queueArn };
    },
  };
}

/** CDK refuses a second trigger per operation; say which, and how to run the lockout inside the existing one. */
function attachTrigger(pool: UserPool, operation: UserPoolOperation, key: keyof OwnTriggerFunctions, title: string, fn: IFunction): void {
  try {
    pool.addTrigger(operation, fn);
  } catch (error) {
    if (!/already exists/.test((error as Error).message)) throw error;
    const factory = `${key}Handler`;
    throw new Error(
      `CognitoLockout: the user pool already has a ${title} trigger. Run the lockout inside it: call ${factory}() ` +
        `from 'cognito-lockout/triggers' in that function's handler and pass the function as ownFunctions.${key} ` +
        `${key === 'preTokenGeneration' ? '(or set successSignal to SuccessSignal.POST_AUTHENTICATION and deviceTokens to false) ' : ''}(docs/configuration.md: "Pools that already have triggers").`,
      { cause: error },
    );
  }
}

/** The aws-cdk-lib version this app loaded. */
export function cdkLibVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('aws-cdk-lib/package.json') as { version: string }).version;
}

/** Fails synth on an aws-cdk-lib older than MIN_AWS_CDK_LIB_VERSION, naming the version needed. */
export function checkCdkVersion(version: string): void {
  if (!cdkLibAtLeast(version, MIN_AWS_CDK_LIB_VERSION)) {
    throw new Error(
      `CognitoLockout requires aws-cdk-lib ${MIN_AWS_CDK_LIB_VERSION} or later, but this app loads ${version}: npm install aws-cdk-lib@^${MIN_AWS_CDK_LIB_VERSION}`,
    );
  }
}

/** Whether `version` (major.minor.patch, any pre-release ignored) is `least` or later. */
export function cdkLibAtLeast(version: string, least: string): boolean {
  const parse = (v: string) =>
    v
      .split('-')[0]
      .split('.')
      .map((part) => Number(part));
  const [have, need] = [parse(version), parse(least)];
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== (need[i] ?? 0)) return (have[i] ?? 0) > (need[i] ?? 0);
  }
  return true;
}

/**
 * A switch and the prop it switches (jsii has no `X | false`): the prop given with the switch off is a mistake, since
 * it would do nothing.
 */
function checkSwitchedProp(on: boolean | undefined, onName: string, prop: unknown, propName: string): void {
  if (on !== undefined && typeof on !== 'boolean') throw new Error(`CognitoLockout: ${onName} must be true or false, got ${JSON.stringify(on)}`);
  if (on === false && prop !== undefined) throw new Error(`CognitoLockout: ${propName} is set but ${onName} is false: remove one of them`);
}

/** The notice settings, checked at synth with messages that name the prop; returns the sender. */
export function checkNotifyUser(props: NotifyUserProps): string {
  const { fromEmail: from, subject, text } = props;
  if (!Token.isUnresolved(from) && (typeof from !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(from))) {
    throw new Error(`CognitoLockout: notifyUser.fromEmail must be an email address verified in Amazon SES, got ${JSON.stringify(from)}`);
  }
  // The notifier's own checks (lambdas/outbox/notice-text.ts), so synth refuses what its cold start would.
  const problem =
    (subject === undefined || Token.isUnresolved(subject) ? undefined : noticeSubjectProblem(subject, 'CognitoLockout: notifyUser.subject')) ??
    (text === undefined || Token.isUnresolved(text) ? undefined : noticeTextProblem(text, 'CognitoLockout: notifyUser.text'));
  if (problem !== undefined) throw new Error(problem);
  const period = props.perRecipientPeriod;
  if (period !== undefined && !Token.isUnresolved(period.toSeconds()) && (period.toSeconds() < 60 || period.toSeconds() > 365 * 24 * 3600)) {
    throw new Error(`CognitoLockout: notifyUser.perRecipientPeriod must be from 1 minute to 365 days, got ${period.toSeconds()} s`);
  }
  const cap = props.maxPerHour;
  if (cap !== undefined && !Token.isUnresolved(cap) && (!Number.isInteger(cap) || cap < 1 || cap > 1_000_000)) {
    throw new Error(`CognitoLockout: notifyUser.maxPerHour must be a whole number from 1 to 1000000, got ${JSON.stringify(cap)}`);
  }
  return from;
}
