/**
 * The Temporal SDK runtime of a process. The SDK logs worker state changes and the workflow
 * bundler's output at INFO, which drowns our own logs: it speaks at WARN unless LOG_LEVEL=debug.
 */
import { DefaultLogger, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Config } from '../config';

const SDK_LEVEL: Record<Config['logLevel'], LogLevel> = {
  debug: 'DEBUG',
  info: 'WARN',
  warn: 'WARN',
  error: 'ERROR',
};

/**
 * Warnings about a deliberate design: each vendor's activities run on a worker of their own
 * (its own rate limit), which has no workflows to poll. Printed at every start, they read as
 * a fault to whoever runs `npm start`.
 */
const EXPECTED_WARNINGS = new Set(['No workflows registered, not polling for workflow tasks']);

export class SdkLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (level === 'WARN' && EXPECTED_WARNINGS.has(message)) return;
    super.log(level, message, meta);
  }
}

export function installRuntime(config: Config, shutdownSignals: NodeJS.Signals[]): void {
  Runtime.install({ logger: new SdkLogger(SDK_LEVEL[config.logLevel]), shutdownSignals });
}
