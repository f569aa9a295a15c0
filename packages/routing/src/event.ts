// What routing reads of an event: its source and type, its stored headers, and its body parsed
// as JSON at most once, however many routes, filters and ordering keys ask.

export interface RoutableEvent {
  readonly sourceId: string;
  readonly eventType: string | null;
  /** Lower-cased names, as the gateway stores them. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json(): unknown;
}

const UNPARSED = Symbol("unparsed");

export function routableEvent(input: {
  readonly sourceId: string;
  readonly eventType: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}): RoutableEvent {
  let parsed: unknown = UNPARSED;
  return {
    sourceId: input.sourceId,
    eventType: input.eventType,
    headers: input.headers,
    json() {
      if (parsed === UNPARSED) {
        try {
          parsed = JSON.parse(input.body.toString("utf8"));
        } catch {
          parsed = undefined; // not JSON (or nested too deeply): JSON locations are absent
        }
      }
      return parsed;
    },
  };
}
