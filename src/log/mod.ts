/**
 * Logging: LogTape with one line per event on standard error.
 * Libraries log under the "vmesh" category (`getLogger(["vmesh", "session"])`); nothing is
 * printed until {@link setupLogging} runs (LogTape's library-first default).
 * @module
 */
import {
  configureSync,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogRecord,
  resetSync,
} from "@logtape/logtape";

const formatter = getTextFormatter({
  timestamp: "date-time-tz",
  // Strings as they are (peer names, addresses), everything else as LogTape inspects it.
  value: (v, inspect) => typeof v === "string" ? v : inspect(v),
});
const encoder = new TextEncoder();

/** Writes one formatted line per record to standard error, synchronously. */
function stderrSink(record: LogRecord): void {
  let line = formatter(record);
  if (!line.endsWith("\n")) line += "\n";
  Deno.stderr.writeSync(encoder.encode(line.replace(/\n(?!$)/g, "\\n")));
}

/**
 * Configures logging for the process (call once, from the CLI).
 * @param o.debug Log debug events too (default: info and above).
 */
export function setupLogging(o: { debug: boolean }): void {
  resetSync();
  configureSync({
    sinks: { stderr: stderrSink },
    loggers: [
      { category: ["vmesh"], lowestLevel: o.debug ? "debug" : "info", sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/** A logger below the "vmesh" category, e.g. `logger("session")`. */
export function logger(...sub: string[]): Logger {
  return getLogger(["vmesh", ...sub]);
}
