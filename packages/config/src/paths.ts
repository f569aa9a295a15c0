import type { ConfigIssue } from "./types.js";

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `["sources", 2, "verify", "secrets"]` → `sources[2].verify.secrets`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The inverse of formatPath, for paths reported by other packages (`verify.secrets[1]`). */
export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  const re = /\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|([^.[\]]+)/g;
  for (const match of path.matchAll(re)) {
    if (match[1] !== undefined) segments.push(Number(match[1]));
    else if (match[2] !== undefined) segments.push(JSON.parse(`"${match[2]}"`) as string);
    else if (match[3] !== undefined) segments.push(match[3]);
  }
  return segments;
}

export interface FormatIssuesOptions {
  /** Append ` (line N)` where the issue's position in the YAML file is known. */
  readonly lines?: boolean;
}

/** One issue per line: `path: message` (just `message` when the issue concerns the whole file). */
export function formatIssues(issues: readonly ConfigIssue[], options: FormatIssuesOptions = {}): string {
  return issues
    .map((issue) => {
      const text = issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`;
      return options.lines === true && issue.line !== undefined ? `${text} (line ${issue.line})` : text;
    })
    .join("\n");
}
