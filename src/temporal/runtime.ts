/**
 * The Temporal SDK runtime of a process. The SDK logs worker state changes and the workflow
 * bundler's output at INFO, which drowns our own logs: it speaks at WARN unless LOG_LEVEL=debug.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Config } from '../config';

const SDK_LEVEL: Record<Config['logLevel'], LogLevel> = {
  debug: 'DEBUG',
  info: 'WARN',
  warn: 'WARN',
  error: 'ERROR',
};

export function installRuntime(config: Config, shutdownSignals: NodeJS.Signals[]): void {
  Runtime.install({ logger: new DefaultLogger(SDK_LEVEL[config.logLevel]), shutdownSignals });
}
