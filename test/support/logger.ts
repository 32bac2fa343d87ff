/** A Logger that hands every line to a callback, for tests that assert on what was logged. */
import type { LogFields, LogLevel, Logger } from '../../src/logger.js';

export function callbackLogger(fn: (level: LogLevel, message: string, fields?: LogFields) => void, base: LogFields = {}): Logger {
  const at = (level: LogLevel) => (message: string, fields?: LogFields) => fn(level, message, { ...base, ...fields });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (fields) => callbackLogger(fn, { ...base, ...fields }) };
}
