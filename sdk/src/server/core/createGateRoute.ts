import { ConfigurationError } from "../../errors/ConfigurationError.js";
import type { Price } from "../parsePrice.js";
import { PROBLEM_HEADERS, problemResponse, statusProblem } from "../problemResponse.js";
import { routePrices } from "../routePrices.js";
import { isUsageLabel } from "../store/validateStoreRecord.js";
import type { Authorization, GateContext, GateMethod, Payment, PaidRequest, PricedRoute } from "./GateMethod.js";
import { paymentRequired } from "./paymentRequired.js";
import { readPaymentCredential } from "./readPaymentCredential.js";
import type { Readiness } from "./createReadiness.js";

export type SessionRouteParameters = {
  /**
   * A stable, short name for the route in usage reports (`store.usage()`, `tollgate usage`, the usage
   * endpoint), e.g. `"photos"`: 1 to 128 printable ASCII characters. Defaults to `description`, then
   * to `"default"`. Keep it low-cardinality: one name per priced route, not per URL.
   */
  name?: string;
  /** Price per unit: a decimal string in the currency's units (`"0.01"`) or base units (`10_000n`). */
  amount: Price;
  /** What a unit is (`"request"`, `"photo"`, `"llm_token"`…). */
  unitType?: string;
  /** Deposit a new channel should hold (a price, as `amount`); defaults to 100 units. */
  suggestedDeposit?: Price;
  /** Smallest raise a new voucher may make (a price, as `amount`); defaults to 0 (any). */
  minVoucherDelta?: Price;
  /**
   * Smallest deposit the server pays gas to open (with `feePayer`); defaults to one unit. Raise it to
   * make gas-griefing with tiny relayed opens unprofitable; clients learn it only from the refusal.
   */
  minRelayedDeposit?: Price;
  description?: string;
  /** Which response statuses are charged; defaults to the gate's `billable`. */
  billable?: (status: number) => boolean;
  /** Units one request consumes; defaults to 1. Streams meter their own units instead. */
  units?: (request: Request) => bigint;
};

export type PaidHandler = (request: Request, payment: Payment) => Response | Promise<Response>;

export type CreateGateRouteParameters = {
  route: SessionRouteParameters;
  context: GateContext;
  /** Every method of the gate, in the order their offers appear in a 402. */
  methods: GateMethod[];
  /** The gate's billing rule, for routes without their own. */
  billable: (status: number) => boolean;
  readiness: Readiness;
};

/**
 * One priced route of the gate: its prices in base units (once the decimals are known), the start-up
 * 503, one 402 framed from every method's offer, the credential handed to the method that claims it,
 * and the handler run between that method's `authorize` and `finish`.
 */
export function createGateRoute({ route, context, methods, billable, readiness }: CreateGateRouteParameters) {
  const name = routeName(route);
  let built: PricedRoute | undefined;
  function priced(): PricedRoute {
    if (built) return built;
    const prices = routePrices(route, readiness.decimals());
    if (prices === undefined) {
      const option = (["amount", "suggestedDeposit", "minVoucherDelta", "minRelayedDeposit"] as const).find((name) => typeof route[name] === "string")!;
      throw new ConfigurationError(option, `\`${option}\` ${JSON.stringify(route[option])} needs the currency's decimals: \`await gate.ready()\` first, or pass \`decimals\``);
    }
    return (built = {
      ...prices,
      name,
      ...(route.unitType === undefined ? {} : { unitType: route.unitType }),
      ...(route.description === undefined ? {} : { description: route.description }),
      currency: context.currency,
      recipient: context.recipient,
      chainId: context.chainId,
      units: route.units ?? (() => 1n),
      billable: route.billable ?? billable,
    });
  }
  // Every malformed price is refused now; a decimal string waiting for the token's decimals, in ready().
  if (routePrices(route, readiness.decimals()) === undefined) readiness.whenReady(priced);
  else priced();
  // The session is asked last: it answers every `Payment` credential no other method claims.
  const claimants = [...methods.slice(1), methods[0]!];

  /** Undefined once the gate passed its start-up checks, else the 503 every request gets meanwhile. */
  async function unready(): Promise<Response | undefined> {
    try {
      await readiness.ready();
      return undefined;
    } catch (error) {
      // Nothing about the configuration reaches the client: the seller learns it from ready().
      return (
        problemResponse(error, () => "") ??
        new Response(JSON.stringify(statusProblem(503, "Service Unavailable", "The payment gate failed its start-up checks")), { status: 503, headers: PROBLEM_HEADERS })
      );
    }
  }

  async function authorize(request: Request): Promise<Authorization> {
    const unavailable = await unready();
    if (unavailable) return { response: unavailable };
    const route = priced();
    // One read and at most one parse of the credential, however many methods look at it.
    const input = { request, credential: readPaymentCredential(request) };
    const method = claimants.find((candidate) => candidate.claims(input));
    if (method) return method.authorize({ ...input, route });
    const offers = methods.flatMap((candidate) => candidate.offer(route, request) ?? []);
    return { response: paymentRequired({ offers, detail: route.description ?? "This resource requires payment" }) };
  }

  async function handle(request: Request, handler: PaidHandler): Promise<Response> {
    const authorized = await authorize(request);
    if (authorized.response) return authorized.response;
    let response: Response;
    try {
      response = await handler(request, authorized.payment);
    } catch (error) {
      await authorized.release();
      return answer(authorized, error);
    }
    let receipt: Record<string, string>;
    try {
      receipt = await authorized.finish(response.status);
    } catch (error) {
      await response.body?.cancel().catch(() => undefined);
      return answer(authorized, error);
    }
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(receipt)) headers.set(name, value);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }

  return { priced, authorize, handle };
}

/**
 * The route's usage name: `name`, else a `description` that fits one, else "default". Its unit type is
 * checked here too: both are stored with every charge, which refuses any other label.
 */
function routeName({ name, description, unitType }: SessionRouteParameters): string {
  if (unitType !== undefined && !isUsageLabel(unitType)) throw new ConfigurationError("unitType", `Unit type ${JSON.stringify(unitType)}: expected 1 to 128 printable ASCII characters`);
  if (name !== undefined) {
    if (!isUsageLabel(name)) throw new ConfigurationError("name", `Route name ${JSON.stringify(name)}: expected 1 to 128 printable ASCII characters`);
    return name;
  }
  if (description === undefined) return "default";
  if (!isUsageLabel(description)) throw new ConfigurationError("name", `Route "${description}" needs a \`name\` for usage reports: its description is not 1 to 128 printable ASCII characters`);
  return description;
}

/** The gate's problem response for `error`; anything it does not answer is thrown on. */
function answer(authorized: PaidRequest, error: unknown): Response {
  const response = authorized.problem(error);
  if (response) return response;
  throw error;
}
