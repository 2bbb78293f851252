/**
 * What a batch target reports, checked against the gauges its job declares (the body shape of
 * bakito/batch-job-controller's result callback): `{"<suffix>": [{"value": 1.0, "labels": {…}}]}`.
 */
import { z } from 'zod';

export interface GaugeDefinition {
  /** The metric is `<prefix>_<suffix>`. */
  suffix: string;
  help: string;
  /** Label names a value may carry besides `target` and `execution_id`. */
  labels: string[];
}

export const ReportBody = z.record(
  z.string(),
  z.array(z.object({ value: z.number(), labels: z.record(z.string(), z.string()).default({}) }).strict()),
);
export type ReportBody = z.infer<typeof ReportBody>;

export interface TargetEvent {
  reason: string;
  message: string;
  warning: boolean;
  at: number;
}

const SUFFIX = /^[a-z_][a-z0-9_]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RESERVED = ['target', 'execution_id'];

/**
 * The most a target's summary (report, events, file names) may take as JSON. It travels as the
 * target job's check-in and stays in its memo (Temporal refuses more than 2 MB), which every
 * listing of an execution's targets reads, 200 at a time: a report too large fails its target
 * saying so instead of being lost. Thousands of series per target belong in a file.
 */
export const MAX_SUMMARY_BYTES = 64 * 1024;

export function checkSummarySize(summary: object): void {
  const bytes = Buffer.byteLength(JSON.stringify(summary));
  if (bytes > MAX_SUMMARY_BYTES)
    throw new Error(
      `the target's report, events and file names take ${bytes} bytes as JSON; at most ${MAX_SUMMARY_BYTES} (fewer series, events or files, or one file that holds more)`,
    );
}

/** A job's gauge declarations must make valid, distinct Prometheus names; checked when the job is defined. */
export function checkGaugeDefinitions(name: string, gauges: readonly GaugeDefinition[], prefix: string): void {
  if (!SUFFIX.test(prefix)) throw new Error(`job ${name}: metrics prefix ${JSON.stringify(prefix)} is not a Prometheus name`);
  const seen = new Set<string>();
  for (const g of gauges) {
    if (!SUFFIX.test(g.suffix) || seen.has(g.suffix))
      throw new Error(`job ${name}: gauge suffix ${JSON.stringify(g.suffix)} is invalid or repeated`);
    seen.add(g.suffix);
    for (const label of g.labels) {
      if (!LABEL.test(label) || RESERVED.includes(label))
        throw new Error(`job ${name}: gauge ${g.suffix} label ${JSON.stringify(label)} is invalid or reserved`);
    }
  }
}

/** The report, or an error naming the first undeclared gauge or label. */
export function checkReport(gauges: readonly GaugeDefinition[], body: unknown): ReportBody {
  const parsed = ReportBody.safeParse(body);
  if (!parsed.success)
    throw new Error(`report is not {"<suffix>": [{"value": <number>, "labels": {…}}]}: ${parsed.error.issues[0]?.message ?? ''}`);
  for (const [suffix, values] of Object.entries(parsed.data)) {
    const gauge = gauges.find((g) => g.suffix === suffix);
    if (!gauge)
      throw new Error(
        `report names gauge ${JSON.stringify(suffix)}, which the job does not declare (declared: ${gauges.map((g) => g.suffix).join(', ')})`,
      );
    for (const { labels } of values) {
      const unknown = Object.keys(labels).find((l) => !gauge.labels.includes(l));
      if (unknown)
        throw new Error(
          `report gives gauge ${suffix} label ${JSON.stringify(unknown)}, which it does not declare (declared: ${gauge.labels.join(', ') || 'none'})`,
        );
    }
  }
  return parsed.data;
}

/** Events name their reason in UpperCamelCase, as Kubernetes events (and the seed) do. */
export function checkEventReason(reason: string): void {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(reason)) throw new Error(`event reason ${JSON.stringify(reason)} must be UpperCamelCase`);
}

/** A report file's name: plain, no path. */
export const FILE_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;
