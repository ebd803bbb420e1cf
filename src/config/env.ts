/**
 * Node-RED's `${NAME}` references: a property or credential that is exactly `${NAME}` is
 * replaced by the environment variable NAME when the flow starts; when it is not set, the
 * reference stays as written. The one pattern for it (the editor gets it from the runtime).
 */

/** `${NAME}`, the whole value (NAME: no white space). */
export const ENV_REFERENCE = /^\$\{(\S+)\}$/;

/** The variable a value refers to, when the value is a `${NAME}` reference that was not replaced (NAME is not set). */
export function unsetEnvReference(value: string): string | undefined {
  const m = ENV_REFERENCE.exec(value.trim());
  return m ? m[1] : undefined;
}

/** Why `value` is not an http(s) URL (`what` names it in the message), or undefined. Never quotes the value. */
export function httpUrlProblem(value: string, what: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(value.trim());
  } catch {
    return `the ${what} is not a valid URL`;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return `the ${what} must be http(s), not ${parsed.protocol}`;
  return undefined;
}
