#!/usr/bin/env node
// `npm run demo`: the scripted lockout story with real SDK calls. Against a running sandbox
// (`--endpoint http://127.0.0.1:9229`), or, by default, against one it starts for itself on free ports with a
// short lockout. Prints a timeline and a summary; exits non-zero if any expectation failed.
import * as path from 'node:path';
import { parseArgs } from './cli-args';
import { formatTimeline, runDemo, summary } from './demo';
import { type Sandbox, type SandboxStatus, fetchStatus, startSandbox } from './sandbox';

/** Long enough to watch, short enough to wait for. */
const DEMO_POLICY = { maxFailedAttempts: '3', lockoutDurationSeconds: '5', failureWindowSeconds: '300' };
const MAX_WAIT_SECONDS = 60;

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { flags } = parseArgs(process.argv.slice(2), ['endpoint']);
  let sandbox: Sandbox | undefined;
  let status: SandboxStatus | undefined;
  if (flags.endpoint) {
    status = await fetchStatus(flags.endpoint);
    if (!status) throw new Error(`no sandbox answers at ${flags.endpoint}: start one with \`npm start\`, or run the demo without --endpoint`);
    if (status.settings.lockoutDurationSeconds > MAX_WAIT_SECONDS) {
      throw new Error(
        `the sandbox at ${flags.endpoint} locks for ${status.settings.lockoutDurationSeconds} s, too long to wait for in a demo: ` +
          'restart it with `npm start -- --lockoutDurationSeconds 5`, or run the demo without --endpoint',
      );
    }
  } else {
    console.log('… starting a sandbox for the demo (3 attempts, 5 s lockout)');
    sandbox = await startSandbox({ projectRoot: path.join(__dirname, '..'), port: 0, dynamodbPort: 0, context: DEMO_POLICY });
    status = sandbox.status;
  }
  try {
    console.log(
      `\nDemo against ${status.endpoint}: ${status.settings.maxFailedAttempts} attempts, then a ${status.settings.lockoutDurationSeconds} s lock\n`,
    );
    const steps = await runDemo(status, { onStep: (s) => console.log(`${s.ok ? 'ok  ' : 'FAIL'}  ${s.step}: ${s.observed}`) });
    console.log(`\n${formatTimeline(steps)}\n\n${summary(steps)}`);
    process.exitCode = steps.every((s) => s.ok) ? 0 : 1;
  } finally {
    await sandbox?.stop();
  }
}

main().catch((error: Error) => {
  console.error(`npm run demo: ${error.message}`);
  process.exit(1);
});
