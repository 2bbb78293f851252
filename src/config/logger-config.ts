import { z } from 'zod';

/** Harbor's log levels; an unknown level is refused here rather than silently becoming WARNING. */
export const LogLevel = z
  .string()
  .transform((s) => s.toUpperCase())
  .pipe(z.enum(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'FATAL']));
export type LogLevel = z.infer<typeof LogLevel>;

const LoggerSettings = z.record(z.string(), z.unknown()).default({});

export const LoggerConfig = z
  .object({
    name: z.enum(['FILE', 'STD_OUTPUT', 'DB']).refine((name) => name !== 'DB', {
      message:
        "Harbor's DB job logger keeps logs in Harbor's database, which this service has not: use FILE (logs under settings.base_dir, served by GET /jobs/{id}/log)",
    }),
    level: LogLevel.default('INFO'),
    settings: LoggerSettings,
    sweeper: z
      .object({
        /** Days a log file is kept. */
        duration: z.number().positive().default(1),
        settings: LoggerSettings,
      })
      .strict()
      .optional(),
  })
  .strict()
  // A FILE logger writes every job's log under its base_dir: without one, every run would fail.
  .refine((logger) => logger.name !== 'FILE' || (typeof logger.settings.base_dir === 'string' && logger.settings.base_dir.trim() !== ''), {
    message: 'a FILE job logger needs settings.base_dir, the directory its job logs go to',
    path: ['settings', 'base_dir'],
  });
export type LoggerConfig = z.infer<typeof LoggerConfig>;
