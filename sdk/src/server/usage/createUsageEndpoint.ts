import type { Address } from "viem";
import { InvalidValueError } from "../../errors/InvalidValueError.js";
import { parseUsageAuthorization, USAGE_REQUEST_TTL, USAGE_SCHEME, type UsageReportJson, type UsageTotalJson } from "../../protocol/usage.js";
import type { PaymentGate } from "../createPaymentGate.js";
import { PROBLEM_HEADERS, problemResponse, statusProblem } from "../problemResponse.js";
import { periodStart } from "../store/aggregateUsage.js";
import { groupUsage, type UsageTotal } from "../store/groupUsage.js";
import { authenticateUsageRequest, UsageAuthenticationError } from "./authenticateUsageRequest.js";

export type CreateUsageEndpointParameters = {
  /** The gate whose store, chain, currency and realm the endpoint answers for. */
  gate: Pick<PaymentGate, "store" | "chain" | "chainId" | "currency" | "realm" | "now">;
  /**
   * The endpoint's public origin as payers call it (`https://api.example.com`), which they sign. Defaults
   * to the request URL's origin; set it behind a proxy that changes the host or scheme.
   */
  origin?: string;
  /** Seconds a signed request stays valid after its `issuedAt`; default 300. */
  maxAge?: number;
};

export type UsageEndpoint = (request: Request) => Promise<Response>;

// Clocks disagree a little: a request stamped this far ahead of the server is still accepted.
const MAX_SKEW = 30;

/**
 * A fetch-style handler where a payer reads its own usage at this seller: totals per route, per unit
 * type, for the current UTC month and overall (committed session charges and settled one-time
 * payments), and its channels. A GET carrying `Authorization: TollgateUsage <base64url JSON>`, an
 * EIP-712 `UsageRequest` signed by the payer (an EOA or a contract wallet) or by a session key one of
 * its channels here names (see `fetchUsage`). Without it: 401 naming the realm and chain to sign for;
 * malformed: 400; refused: 401 (RFC 9457 problems). Usage is read from the whole store, so a store
 * shared by several gates reports the payer's usage at all of them.
 */
export function createUsageEndpoint({ gate, origin, maxAge = USAGE_REQUEST_TTL }: CreateUsageEndpointParameters): UsageEndpoint {
  const challenge = `${USAGE_SCHEME} realm="${gate.realm.replace(/["\\]/g, "\\$&")}", chainId="${gate.chainId}"`;
  const unauthorized = (detail: string) =>
    problem(401, "Unauthorized", detail, { "www-authenticate": challenge }, { realm: gate.realm, chainId: gate.chainId, scheme: USAGE_SCHEME });

  return async function usageEndpoint(request) {
    if (request.method !== "GET") return problem(405, "Method Not Allowed", "The usage endpoint answers GET", { allow: "GET" });
    const header = request.headers.get("authorization");
    if (header === null) return unauthorized(`Sign a UsageRequest and send it as Authorization: ${USAGE_SCHEME} <base64url JSON>`);
    try {
      const authorization = parseUsageAuthorization(header);
      const payer = await authenticateUsageRequest({
        authorization,
        client: gate.chain.publicClient,
        chainId: gate.chainId,
        store: gate.store,
        realm: gate.realm,
        origin: origin ?? new URL(request.url).origin,
        now: Math.floor(gate.now() / 1000),
        maxAge,
        maxSkew: MAX_SKEW,
      });
      return Response.json(await usageReport(gate, payer), { headers: { "cache-control": "no-store" } });
    } catch (error) {
      if (error instanceof UsageAuthenticationError) return unauthorized(error.message);
      if (error instanceof InvalidValueError) return problem(400, "Bad Request", `Malformed usage authorization: ${error.message}`);
      // The chain or the store failed: a 503 to retry. Nothing else is expected; never a 500 with details.
      return problemResponse(error, () => "") ?? problem(503, "Service Unavailable", "The usage could not be read");
    }
  };
}

async function usageReport(gate: CreateUsageEndpointParameters["gate"], payer: Address): Promise<UsageReportJson> {
  const [rows, channels] = await Promise.all([gate.store.usage({ period: "month", payer }), gate.store.listChannels({ payer })]);
  const month = new Date(periodStart(gate.now(), "month")).toISOString();
  return {
    payer,
    currency: gate.currency,
    chainId: gate.chainId,
    total: totalJson(groupUsage({ rows, by: [] })[0]),
    month: { period: month, ...totalJson(groupUsage({ rows: rows.filter((row) => row.period === month), by: [] })[0]) },
    routes: groupUsage({ rows, by: ["route"] }).map((sum) => ({ route: sum.route!, ...totalJson(sum) })),
    unitTypes: groupUsage({ rows, by: ["unitType"] }).map((sum) => ({ unitType: sum.unitType!, ...totalJson(sum) })),
    channels: channels.map((channel) => ({
      channelId: channel.channelId,
      status: channel.status,
      deposit: channel.deposit.toString(),
      acceptedCumulative: channel.acceptedCumulative.toString(),
      spent: channel.spent.toString(),
      settledOnChain: channel.settledOnChain.toString(),
    })),
  };
}

function totalJson(sum: UsageTotal | undefined): UsageTotalJson {
  return { amount: (sum?.amount ?? 0n).toString(), units: (sum?.units ?? 0n).toString(), charges: sum?.charges ?? 0, payments: sum?.payments ?? 0 };
}

function problem(status: number, title: string, detail: string, headers: Record<string, string> = {}, extensions: Record<string, unknown> = {}): Response {
  return new Response(JSON.stringify({ ...statusProblem(status, title, detail), ...extensions }), { status, headers: { ...PROBLEM_HEADERS, ...headers } });
}
