/** True when `name` is an IANA time zone this Node.js build knows (e.g. `Europe/Kyiv`, `UTC`). */
export function isValidTimeZone(name: string): boolean {
  if (name.length === 0) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
