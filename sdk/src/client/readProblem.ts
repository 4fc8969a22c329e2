const PROBLEMS = "https://paymentauth.org/problems/";

/** A refusal's problem details, `type` relative to the Payment scheme's problem namespace (e.g. `session/channel-not-found`). */
export type Problem = { type?: string; requiredCumulative?: string; channelId?: string };

/** Reads a response's RFC 9457 problem without consuming it; {} when the body is not one. */
export async function readProblem(response: Response): Promise<Problem> {
  const body = (await response.clone().json().catch(() => ({}))) as Problem;
  const type = typeof body.type === "string" && body.type.startsWith(PROBLEMS) ? body.type.slice(PROBLEMS.length) : undefined;
  return { ...body, ...(type === undefined ? { type: undefined } : { type }) };
}
