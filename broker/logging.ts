/**
 * Log output through LogTape: human-readable lines by default, one JSON object
 * per line with `--log-format json`. Every formatted line passes through
 * {@link redactSecrets}, so a password or token that reaches a log record (an
 * error message quoting a store URL, say) is never printed.
 */

import {
  configure,
  defaultTextFormatter,
  getConsoleSink,
  jsonLinesFormatter,
  type LogLevel,
  type TextFormatter,
} from "@logtape/logtape";

/** `user:password@` in URLs, `?token=...`-style query parameters, bearer tokens. */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@"'\\]*:)[^\s/?#@"'\\]+@/gi, "$1***@"],
  [
    /([?&][^=&\s"'\\]*(?:secret|token|password|passwd|key|signature|credential)[^=&\s"'\\]*=)[^&\s"'\\]+/gi,
    "$1***",
  ],
  [/(bearer\s+)[a-z0-9._~+/=-]+/gi, "$1***"],
];

/** Replaces passwords and tokens in free text (log lines, error messages) with `***`. */
export function redactSecrets(text: string): string {
  for (const [re, to] of SECRET_PATTERNS) text = text.replace(re, to);
  return text;
}

/** A text formatter whose output never holds a secret. */
export function redacting(formatter: TextFormatter): TextFormatter {
  return (record) => redactSecrets(formatter(record));
}

/** The log formats `--log-format` accepts. */
export type LogFormat = "text" | "json";

/** Routes the broker's loggers (category "skb") to the console in the given format. */
export async function configureLogging(level: LogLevel, format: LogFormat): Promise<void> {
  const formatter = format === "json" ? jsonLinesFormatter : defaultTextFormatter;
  await configure({
    sinks: { console: getConsoleSink({ formatter: redacting(formatter) }) },
    loggers: [
      { category: ["skb"], lowestLevel: level, sinks: ["console"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}
