import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEVICE_KEY_READERS, METRICS_NAMESPACE, type MetricName, SERVICE_NAME, type TriggerName } from '../lambdas/shared/contract';

export interface LockoutMonitoringProps {
  /**
   * Raise the credential-stuffing alarm when more lockouts than this start within 5 minutes.
   * @default 20
   */
  readonly lockoutsPerFiveMinutes?: number;
  /**
   * Raise the latency alarm when a trigger's slowest invocation in 5 minutes exceeds this. Cognito gives a
   * trigger 5 s; the functions time out at 3 s.
   * @default Duration.millis(2500)
   */
  readonly durationThreshold?: Duration;
  /**
   * Where alarms send their notifications (ALARM and OK).
   * @default - no notifications; the alarms are visible in CloudWatch
   */
  readonly alarmTopic?: ITopic;
  /**
   * Create a CloudWatch dashboard of attempts, refusals, lockouts, store errors and latency.
   * @default true
   */
  readonly dashboard?: boolean;
}

/** The lockout's trigger functions (the construct's own, or yours from `ownFunctions`). */
export interface MonitoredTriggers {
  readonly preAuthentication: IFunction;
  /** @default - none */
  readonly postAuthentication?: IFunction;
  /** @default - none */
  readonly preSignUp?: IFunction;
  /** @default - none */
  readonly postConfirmation?: IFunction;
  /** @default - none */
  readonly preTokenGeneration?: IFunction;
}

/** Each trigger function's metric name for its dimensions. */
const TRIGGER_NAMES: Record<keyof MonitoredTriggers, TriggerName> = {
  preAuthentication: 'PreAuthentication',
  postAuthentication: 'PostAuthentication',
  preSignUp: 'PreSignUp',
  postConfirmation: 'PostConfirmation',
  preTokenGeneration: 'PreTokenGeneration',
};

/** The stream's consumers (lambdas/outbox/outbox.ts), when the construct has them. */
export interface MonitoredOutbox {
  /** @default - none */
  readonly announcer?: IFunction;
  /** @default - none */
  readonly notifier?: IFunction;
  /**
   * Stream records the consumers gave up on.
   * @default - none
   */
  readonly failures?: IQueue;
}

/** What `LockoutMonitoring` watches, and how. `CognitoLockout` builds one from its own parts. */
export interface LockoutMonitoringConstructProps extends LockoutMonitoringProps {
  readonly triggers: MonitoredTriggers;
  /**
   * The table stream's consumers (lambdas/outbox/outbox.ts), when the construct has them.
   * @default - none
   */
  readonly outbox?: MonitoredOutbox;
  /**
   * Device tokens are on: alarm when a function cannot read the device token key (`DeviceKeyErrors`).
   * @default false
   */
  readonly deviceTokens?: boolean;
}

/** The functions that read the device token key (device-keys.ts): they count `DeviceKeyErrors`. */
const KEY_READERS = DEVICE_KEY_READERS;
/** The functions that decide from their instance's record when the store fails: they count `InstanceRecordFull`. */
const RECORD_KEEPERS: readonly TriggerName[] = ['PreAuthentication', 'PreSignUp'];

const PERIOD = Duration.minutes(5);

/** Alarms and a dashboard over the lockout's own metrics (Embedded Metric Format) and its functions' metrics. */
export class LockoutMonitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly credentialStuffingAlarm: Alarm;
  readonly storeErrorsAlarm: Alarm;
  readonly storeCircuitAlarm: Alarm;
  readonly internalErrorsAlarm: Alarm;
  readonly instanceRecordFullAlarm: Alarm;
  /** With post-authentication among the triggers: a successful sign-in that pre-authentication did not count. */
  readonly uncountedSignInsAlarm?: Alarm;
  /** With device tokens on. */
  readonly deviceKeyErrorsAlarm?: Alarm;
  readonly dashboard?: Dashboard;

  constructor(scope: Construct, id: string, props: LockoutMonitoringConstructProps) {
    super(scope, id);
    const outbox = props.outbox ?? {};
    const threshold = props.lockoutsPerFiveMinutes ?? 20;
    if (!Number.isInteger(threshold) || threshold < 0) {
      throw new Error(`CognitoLockout: monitoringOptions.lockoutsPerFiveMinutes must be a whole number of 0 or more, got ${threshold}`);
    }
    const durationMs = (props.durationThreshold ?? Duration.millis(2500)).toMilliseconds();
    if (durationMs <= 0 || durationMs >= 5000) {
      throw new Error(`CognitoLockout: monitoringOptions.durationThreshold must be above 0 and under Cognito's 5 s limit, got ${durationMs} ms`);
    }
    const functions = Object.entries(props.triggers)
      .filter((entry): entry is [keyof MonitoredTriggers, IFunction] => entry[1] !== undefined)
      .map(([key, fn]): [TriggerName, IFunction] => [TRIGGER_NAMES[key], fn]);

    this.credentialStuffingAlarm = this.alarm('CredentialStuffing', lockoutMetric('LockoutsStarted', 'PreAuthentication'), threshold, {
      description: `More than ${threshold} sign-in lockouts started within 5 minutes: possible credential stuffing.`,
    });
    this.storeErrorsAlarm = this.alarm(
      'StoreErrors',
      sum(Object.fromEntries(functions.map(([trigger], i) => [`s${i}`, lockoutMetric('StoreErrors', trigger)]))),
      0,
      { description: 'The lockout could not reach DynamoDB: decisions followed the store-error policy.' },
    );
    this.storeCircuitAlarm = this.alarm(
      'StoreCircuitOpened',
      sum(Object.fromEntries(functions.map(([trigger], i) => [`c${i}`, lockoutMetric('StoreCircuitOpened', trigger)]))),
      0,
      {
        description:
          'A function instance stopped asking DynamoDB after repeated failures: its decisions come from its own record ' +
          '(store-error policy local), until a probe finds the store back (StoreCircuitClosed).',
      },
    );
    this.internalErrorsAlarm = this.alarm(
      'InternalErrors',
      sum(Object.fromEntries(functions.map(([trigger], i) => [`i${i}`, lockoutMetric('InternalErrors', trigger)]))),
      0,
      { description: 'A trigger failed on a bug or a configuration error; users got the generic message. See the log for the reason.' },
    );
    this.instanceRecordFullAlarm = this.alarm('InstanceRecordFull', sumOver(functions, RECORD_KEEPERS, 'InstanceRecordFull', 'r'), 0, {
      description:
        "During a store outage an instance's record was full of identities it must keep, so it turned a new identity away with the generic " +
        'message: someone is spraying names at it. Entries free up as their windows and locks end; the store coming back ends it.',
    });
    if (props.triggers.postAuthentication !== undefined) {
      this.uncountedSignInsAlarm = this.alarm('UncountedSignIns', lockoutMetric('UncountedSignIns', 'PostAuthentication'), 0, {
        description:
          'A sign-in succeeded that pre-authentication counted no attempt for: its flow bypasses the lockout (USER_AUTH or CUSTOM_AUTH, ' +
          'if Cognito does not run pre-authentication for it). The metric by triggerSource and clientId, the log and the SignInUncounted ' +
          'event name the app client. Also raised for up to 15 minutes after a store outage, for attempts the instances decided alone.',
      });
    }
    if (props.deviceTokens === true) {
      this.deviceKeyErrorsAlarm = this.alarm('DeviceKeyErrors', sumOver(functions, KEY_READERS, 'DeviceKeyErrors', 'k'), 0, {
        description:
          'A function could not read the device token key (Secrets Manager: permission, secret deleted or malformed, throttling), or had none ' +
          'to sign with: device tokens count as absent and none are issued until a retried read succeeds. See the log for the reason.',
      });
    }
    for (const [trigger, fn] of functions) {
      // A refusal is an exception thrown to Cognito, so Lambda counts every refusal as an error. What is left
      // after subtracting the refusals the trigger reported is a real failure (a crash, a bad configuration).
      const errors = fn.metricErrors({ period: PERIOD, statistic: 'Sum' });
      const unexpected =
        trigger !== 'PreAuthentication' && trigger !== 'PreSignUp'
          ? errors
          : new MathExpression({
              expression: 'errors - FILL(refused, 0)',
              usingMetrics: { errors, refused: lockoutMetric('AttemptsRefused', trigger) },
              period: PERIOD,
              label: `${trigger} unexpected errors`,
            });
      this.alarm(`${trigger}UnexpectedErrors`, unexpected, 0, {
        description: `The ${trigger} trigger failed for a reason other than a lockout refusal.`,
      });
      this.alarm(`${trigger}Duration`, fn.metricDuration({ period: PERIOD, statistic: 'Maximum' }), durationMs, {
        description: `The ${trigger} trigger took over ${durationMs} ms; Cognito fails triggers that take 5 s.`,
      });
    }
    this.outboxAlarms(outbox);
    if (props.alarmTopic) {
      const action = new SnsAction(props.alarmTopic);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }

    if (props.dashboard ?? true) {
      this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
      const signIn = (['AttemptsCounted', 'AttemptsRefused', 'LockoutsStarted', 'WouldRefuse'] as const).map((m) =>
        lockoutMetric(m, 'PreAuthentication'),
      );
      const signUp = (['AttemptsCounted', 'AttemptsRefused', 'LockoutsStarted'] as const).map((m) => lockoutMetric(m, 'PreSignUp'));
      this.dashboard.addWidgets(
        new GraphWidget({ title: 'Sign-in attempts (per 5 min)', left: signIn, width: 12 }),
        new GraphWidget({ title: 'Sign-up attempts (per 5 min)', left: signUp, width: 12 }),
      );
      this.dashboard.addWidgets(
        new GraphWidget({
          title: 'Store errors and circuit (per 5 min)',
          left: functions.flatMap(([trigger]) =>
            (['StoreErrors', 'StoreBypassed', 'StoreCircuitOpened'] as const).map((m) => lockoutMetric(m, trigger)),
          ),
          width: 12,
        }),
        new GraphWidget({
          title: 'Trigger duration (ms): p50 and max',
          left: functions.flatMap(([trigger, fn]) => [
            fn.metricDuration({ period: PERIOD, statistic: 'p50', label: `${trigger} p50` }),
            fn.metricDuration({ period: PERIOD, statistic: 'Maximum', label: `${trigger} max` }),
          ]),
          width: 12,
        }),
      );
      this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Lockout alarms', alarms: this.alarms, width: 24 }));
    }
  }

  /** The stream's side: records given up on, consumer failures, and the notices' caps binding. */
  private outboxAlarms({ announcer, notifier, failures }: MonitoredOutbox): void {
    if (failures !== undefined) {
      this.alarm('StreamFailures', failures.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }), 0, {
        description:
          'Stream records the announcer or the notifier gave up on after their retries: events or notices not sent. Each message ' +
          'names the shard and sequence numbers, readable in the stream for 24 hours.',
      });
    }
    for (const [name, fn] of [
      ['Announcer', announcer],
      ['NotifyUser', notifier],
    ] as const) {
      if (fn === undefined) continue;
      this.alarm(`${name}Errors`, fn.metricErrors({ period: PERIOD, statistic: 'Sum' }), 0, {
        description: `The ${name} function failed a batch; the stream retries it (events and notices are delayed, sign-ins never are).`,
      });
    }
    if (notifier !== undefined) {
      this.alarm('NoticesCapped', lockoutMetric('NoticesCapped', 'NotifyUser'), 0, {
        description: 'Lock notices were dropped because the hourly cap (notifyUser.maxPerHour) was reached: a storm of locks over many accounts.',
      });
      this.alarm('NoticeErrors', lockoutMetric('NoticeErrors', 'NotifyUser'), 0, {
        description:
          'Amazon SES did not accept a lock notice: retried when SES refused it for now (throttling); marked failed, never sent again, when it ' +
          'refused it for good (sender, account, role or address: see the log) or the outcome was unclear.',
      });
    }
  }

  private alarm(id: string, metric: IMetric, threshold: number, options: { description: string }): Alarm {
    const alarm = new Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    this.alarms.push(alarm);
    return alarm;
  }
}

/** One of the triggers' own metrics, with the dimensions Powertools gives them. */
export function lockoutMetric(name: MetricName, trigger: TriggerName): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME, trigger },
    statistic: 'Sum',
    period: PERIOD,
    label: `${trigger} ${name}`,
  });
}

/** The sum of one lockout metric over those of `functions` that are among `triggers`; `prefix` names the math ids. */
function sumOver(
  functions: ReadonlyArray<[TriggerName, IFunction]>,
  triggers: readonly TriggerName[],
  metric: MetricName,
  prefix: string,
): MathExpression {
  return sum(
    Object.fromEntries(functions.filter(([t]) => triggers.includes(t)).map(([trigger], i) => [`${prefix}${i}`, lockoutMetric(metric, trigger)])),
  );
}

function sum(metrics: Record<string, IMetric>): MathExpression {
  return new MathExpression({
    expression: Object.keys(metrics)
      .map((k) => `FILL(${k}, 0)`)
      .join(' + '),
    usingMetrics: metrics,
    period: PERIOD,
    label: 'total',
  });
}
