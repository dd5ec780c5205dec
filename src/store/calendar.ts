const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d))?)?/;

/**
 * Whether the date (and time, if given) an ISO-8601 text starts with exists
 * on the calendar: no 30 February, no 24:00, no minute 60. `Date` would
 * silently roll such a text over into the next day, month or hour, so every
 * parser of a timestamp the caller gives checks this first.
 */
export function isOnTheCalendar(text: string): boolean {
  const match = DATE_TIME.exec(text);
  if (match === null) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? '0')) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const t = new Date(0);
  t.setUTCFullYear(year, month - 1, day); // years taken literally, unlike Date.UTC's 0–99
  t.setUTCHours(hour, minute, second);
  return (
    t.getUTCFullYear() === year &&
    t.getUTCMonth() === month - 1 &&
    t.getUTCDate() === day &&
    t.getUTCHours() === hour &&
    t.getUTCMinutes() === minute &&
    t.getUTCSeconds() === second
  );
}
