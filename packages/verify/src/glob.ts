/**
 * Event-type globs: `*` matches any run of characters (dots included, possibly none); every
 * other character is literal. Linear-time two-pointer matching: no regular expression, so a
 * pattern from the config can never cause catastrophic backtracking.
 */
export function matchGlob(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let starP = -1;
  let starV = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === "*") {
      starP = p++;
      starV = v;
    } else if (p < pattern.length && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (starP !== -1) {
      p = starP + 1;
      v = ++starV;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}
