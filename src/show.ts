/** A value as quoted in config messages and filter explanations: JSON (a number as JS writes it: `Infinity`, not `null`), cut to `max` characters. */
export function show(value: unknown, max = 80): string {
  if (value === undefined) return 'absent';
  if (typeof value === 'number') return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? asString(value);
  } catch {
    text = asString(value); // BigInt, cycles
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What String() writes for a value JSON cannot write (function, symbol, BigInt, cycle): an object's own toString, if any, else `[object Object]`. */
function asString(value: unknown): string {
  return String(value);
}
