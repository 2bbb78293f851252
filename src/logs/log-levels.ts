import type { LogLevel } from '../config/config-schema.js';

const ORDER: Record<LogLevel, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3, FATAL: 4 };

export function enabled(threshold: LogLevel, level: LogLevel): boolean {
  return ORDER[level] >= ORDER[threshold];
}

export function formatLine(level: LogLevel, message: string, prefix = ''): string {
  return `${new Date().toISOString()} [${level}] ${prefix}${message}\n`;
}
