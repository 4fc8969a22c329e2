/** The longest a seller's `Retry-After` may hold a request: a hostile seller could ask for a day. */
export const MAX_RETRY_AFTER_SECONDS = 10;

/** A response's `Retry-After` in seconds (the delay form), or undefined when absent, malformed or beyond `max`. */
export function readRetryAfter(response: Response, max = MAX_RETRY_AFTER_SECONDS): number | undefined {
  const value = response.headers.get("retry-after")?.trim();
  if (value === undefined || !/^\d{1,6}$/.test(value)) return undefined;
  const seconds = Number(value);
  return seconds <= max ? seconds : undefined;
}
