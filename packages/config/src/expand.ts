// `${VAR}` / `${VAR:-default}` expansion, applied to string values after YAML parsing so that an
// environment value (a secret full of `:` and `#`) can never change the document's structure.

export type Env = Readonly<Record<string, string | undefined>>;

export type ExpandResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly errors: readonly string[] };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expands `${VAR}` (an error when VAR is unset) and `${VAR:-default}` (default when VAR is unset
 * or empty). `$${` is a literal `${`; any other `$` is left alone. Defaults are literal text:
 * they are not expanded again.
 */
export function expandEnv(text: string, env: Env): ExpandResult {
  let out = "";
  const errors: string[] = [];
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar === -1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    if (text.startsWith("$${", dollar)) {
      out += "${";
      i = dollar + 3;
      continue;
    }
    if (!text.startsWith("${", dollar)) {
      out += "$";
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf("}", dollar + 2);
    if (close === -1) {
      errors.push('unterminated "${" (write "$${" for a literal "${")');
      break;
    }
    const inner = text.slice(dollar + 2, close);
    i = close + 1;
    const sep = inner.indexOf(":-");
    const name = sep === -1 ? inner : inner.slice(0, sep);
    const fallback = sep === -1 ? undefined : inner.slice(sep + 2);
    if (!NAME.test(name)) {
      errors.push(`invalid environment reference "\${${inner}}" (write "$\${" for a literal "\${")`);
      continue;
    }
    if (fallback?.includes("${")) {
      errors.push(`nested references are not supported in the default of "\${${name}:-...}"`);
      continue;
    }
    const value = env[name];
    if (fallback !== undefined) {
      out += value === undefined || value === "" ? fallback : value;
    } else if (value === undefined) {
      errors.push(`environment variable ${name} is not set`);
    } else {
      out += value;
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: out };
}
