import { SETTING_NAMES } from '../lambdas/policy/settings';

/** The app's context keys beyond the settings that the sandbox passes on (OAuth URLs, lock notices). */
export const APP_CONTEXT_KEYS = ['callbackUrls', 'logoutUrls', 'notifyUserFrom', 'notifyUserSubject', 'notifyUserText'];
const CONTEXT_KEYS: readonly string[] = [...SETTING_NAMES, ...APP_CONTEXT_KEYS];

export interface ParsedArgs {
  /** Flags the command itself defines. */
  readonly flags: Record<string, string>;
  /** CDK context overrides: the same keys as `cdk deploy -c key=value`. */
  readonly context: Record<string, string>;
}

/**
 * `--key value` or `--key=value`. Keys are the command's own flags or the lockout settings' context keys
 * (`--maxFailedAttempts 3`); anything else is an error that lists what is accepted.
 */
export function parseArgs(argv: readonly string[], ownFlags: readonly string[], booleanFlags: readonly string[] = []): ParsedArgs {
  const flags: Record<string, string> = {};
  const context: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--([A-Za-z][\w-]*)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unexpected argument ${JSON.stringify(arg)}: options look like --name value`);
    const [, key, inline] = match;
    const known = ownFlags.includes(key) || booleanFlags.includes(key) || CONTEXT_KEYS.includes(key);
    if (!known) {
      throw new Error(
        `unknown option --${key}. Options: ${[...ownFlags, ...booleanFlags].map((f) => `--${f}`).join(', ')}, and the settings ${CONTEXT_KEYS.map((s) => `--${s}`).join(', ')}`,
      );
    }
    let value = inline;
    if (value === undefined) {
      if (booleanFlags.includes(key)) value = 'true';
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
      else throw new Error(`option --${key} needs a value`);
    }
    if (CONTEXT_KEYS.includes(key)) context[key] = value;
    else flags[key] = value;
  }
  return { flags, context };
}

export function portFlag(flags: Record<string, string>, name: string, fallback: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535)
    throw new Error(`--${name} must be a port number from 0 (any free port) to 65535, got ${JSON.stringify(raw)}`);
  return port;
}
