import { writeSync } from 'node:fs';
import { format } from 'node:util';

/**
 * The console Powertools Logger and Metrics write through (telemetry.ts), writing each line straight to the
 * process's file descriptors: stdout for info, debug and EMF lines, stderr for warnings and errors, as Powertools'
 * own `new Console({ stdout: process.stdout, stderr: process.stderr })` does. The bytes are the same; what is saved
 * is opening the two stdio streams, which Powertools does when a Logger or Metrics is made, in every cold start
 * before the first event (about 3 ms of a pre-authentication cold start of about 60 ms, bench/). Lambda's own
 * runtime writes its log lines with `writeSync` too. A write the descriptor refuses (a non-blocking pipe that is
 * full: EAGAIN) goes through the stream instead, so no line is lost.
 */
export interface LineConsole {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  trace(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

function writer(fd: 1 | 2): (...args: unknown[]) => void {
  return (...args) => {
    const line = `${format(...args)}\n`;
    try {
      writeSync(fd, line);
    } catch {
      (fd === 1 ? process.stdout : process.stderr).write(line);
    }
  };
}

const toStdout = writer(1);
const toStderr = writer(2);

// `trace` prints no stack, as Powertools' own console does in Lambda.
export const FD_CONSOLE: LineConsole = Object.freeze({
  log: toStdout,
  info: toStdout,
  debug: toStdout,
  trace: toStdout,
  warn: toStderr,
  error: toStderr,
});
