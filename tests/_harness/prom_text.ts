/**
 * Reads Prometheus text exposition with an independent parser (`parse-prometheus-text-format`,
 * which throws on malformed text), for tests of `/metrics`.
 * @module
 */
import parsePrometheusTextFormat from "parse-prometheus-text-format";

/** One metric family: its type ("COUNTER", "GAUGE", …), help and samples. */
export interface Family {
  type: string;
  help: string;
  samples: { labels: Record<string, string>; value: number }[];
}

/** Parses exposition text into families by name (histograms and summaries keep no samples). */
export function parseExposition(text: string): Map<string, Family> {
  const parsed = parsePrometheusTextFormat(text) as {
    name: string;
    help: string;
    type: string;
    metrics: { value?: string; labels?: Record<string, string> }[];
  }[];
  const out = new Map<string, Family>();
  for (const f of parsed) {
    if (out.has(f.name)) throw new Error(`metric family ${f.name} appears twice`);
    const samples = f.metrics.filter((m) => m.value !== undefined).map((m) => ({
      labels: m.labels ?? {},
      value: Number(m.value),
    }));
    out.set(f.name, { type: f.type, help: f.help, samples });
  }
  return out;
}

/**
 * The value of the one sample of `name` whose labels include `labels`; undefined when there is
 * none; throws when several match.
 */
export function sample(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const f = families.get(name);
  if (f === undefined) return undefined;
  const hits = f.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) {
    throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  }
  return hits[0]?.value;
}
