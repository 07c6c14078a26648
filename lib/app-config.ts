import { RemovalPolicy } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import {
  type LockoutSettings,
  SETTING_NAMES,
  checkSetting,
  checkSettingRelations,
  parseSettingText,
  DEFAULT_SETTINGS,
} from '../lambdas/policy/settings';
import type { CognitoLockoutStackProps } from './cognito-lockout-stack';
import { propsFromSettings } from './lockout-props';

/**
 * Reads the app's configuration from CDK context (cdk.json, or `-c key=value` on the command line).
 * Context keys are the setting names (`maxFailedAttempts`, `lockoutDurationSeconds`, ...). Values from the
 * command line arrive as strings and are parsed; every value is validated like a construct prop, and an
 * error names the context key.
 */
export function readAppConfig(node: Node): Omit<CognitoLockoutStackProps, 'env'> & { stackName: string } {
  const label = (key: string) => `context key "${key}"`;
  const settings: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    const raw: unknown = node.tryGetContext(name);
    if (raw === undefined || raw === null) continue;
    settings[name] = typeof raw === 'string' ? parseSettingText(name, raw, label(name)) : checkSetting(name, raw, label(name));
  }
  checkSettingRelations({ ...DEFAULT_SETTINGS, ...(settings as Partial<LockoutSettings>) }, label);

  return {
    stackName: text(node, 'stackName') ?? 'CognitoLockout',
    lockout: propsFromSettings(settings as Partial<LockoutSettings>),
    domainPrefix: text(node, 'domainPrefix'),
    callbackUrls: list(node, 'callbackUrls'),
    logoutUrls: list(node, 'logoutUrls'),
    deletionProtection: bool(node, 'deletionProtection'),
    removalPolicy: removal(node),
    notifyUser: notifyUser(node),
  };
}

/** `notifyUserFrom` turns lock notices on; `notifyUserSubject` and `notifyUserText` are optional. */
function notifyUser(node: Node): CognitoLockoutStackProps['notifyUser'] {
  const from = text(node, 'notifyUserFrom');
  if (from === undefined) return undefined;
  return { fromEmail: from, subject: text(node, 'notifyUserSubject'), text: text(node, 'notifyUserText') };
}

function text(node: Node, key: string): string | undefined {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string' || raw.trim() === '') throw new Error(`context key "${key}" must be non-empty text, got ${JSON.stringify(raw)}`);
  return raw.trim();
}

/** A JSON array in cdk.json, or comma-separated text from `-c key=a,b`. */
function list(node: Node, key: string): string[] | undefined {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined || raw === null) return undefined;
  const items =
    typeof raw === 'string'
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : raw;
  if (!Array.isArray(items) || items.length === 0 || !items.every((i) => typeof i === 'string')) {
    throw new Error(`context key "${key}" must be a non-empty list of URLs (a JSON array, or comma-separated text), got ${JSON.stringify(raw)}`);
  }
  return items;
}

function bool(node: Node, key: string): boolean | undefined {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined || raw === null) return undefined;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new Error(`context key "${key}" must be true or false, got ${JSON.stringify(raw)}`);
}

function removal(node: Node): RemovalPolicy | undefined {
  const raw = text(node, 'removalPolicy');
  if (raw === undefined) return undefined;
  if (raw === 'retain') return RemovalPolicy.RETAIN;
  if (raw === 'destroy') return RemovalPolicy.DESTROY;
  throw new Error(`context key "removalPolicy" must be "retain" or "destroy", got ${JSON.stringify(raw)}`);
}
