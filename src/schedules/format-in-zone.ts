/** An instant's wall-clock fields in an IANA zone, and that zone's offset then (`+02:00`, `+00:00`). */
export function wallClockInZone(instant: Date, timeZone: string) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      timeZoneName: 'longOffset',
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  const number = (key: string) => Number(parts[key]);
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : String(parts.timeZoneName).replace('GMT', '');
  return {
    year: number('year'),
    month: number('month'),
    day: number('day'),
    hour: number('hour'),
    minute: number('minute'),
    second: number('second'),
    offset,
  };
}

/** An instant as RFC 3339 wall-clock time in an IANA zone, with that zone's offset (e.g. `2026-03-29T03:00:00+02:00`). */
export function formatInZone(instant: Date, timeZone: string): string {
  const w = wallClockInZone(instant, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${w.year}-${two(w.month)}-${two(w.day)}T${two(w.hour)}:${two(w.minute)}:${two(w.second)}${w.offset === '+00:00' ? 'Z' : w.offset}`;
}
