// An OpenAPI 3.1 discovery document of a seller's paid routes, in the shape mppx's discovery generator
// writes (mppx/discovery `generate`) and its validator reads: each paid operation carries the
// `x-payment-info` extension with one offer per accepted payment method, and a 402 response. Discovery
// is advisory: a route's 402 challenge stays authoritative.
import { ConfigurationError } from "../../errors/ConfigurationError.js";
import { formatSessionRequest, type SessionRequest } from "../../session/request.js";

/** HTTP methods an OpenAPI path item names (lower case, as in the document). */
export type DiscoveryHttpMethod = "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace";

/** What a discovery entry needs from a route: the request its challenges carry (a `gate.session(...)` route). */
export type DiscoverableRoute = { readonly request: SessionRequest };

export type DiscoveryRoute = {
  /** The path as the framework writes it; `:name` segments become OpenAPI's `{name}`. */
  path: string;
  /** HTTP method, either case. */
  method: string;
  /** The paid route, or several when the URL accepts more than one payment method. */
  route: DiscoverableRoute | readonly DiscoverableRoute[];
  summary?: string;
  /** OpenAPI Request Body Object, for routes that take a body. */
  requestBody?: Record<string, unknown>;
};

/** The `x-service-info` extension at the document's root (mppx's ServiceInfo). */
export type DiscoveryServiceInfo = {
  categories?: string[];
  docs?: { apiReference?: string; homepage?: string; llms?: string };
};

export type CreateDiscoveryDocumentParameters = {
  routes: readonly DiscoveryRoute[];
  info: { title: string; version?: string; description?: string };
  serviceInfo?: DiscoveryServiceInfo;
};

/** One accepted payment method of an operation: the fields mppx's discovery reads, amounts in base units. */
export type DiscoveryOffer = {
  /** Price per unit in the currency's base units (decimal string). */
  amount: string;
  /** The ERC-20 contract the price is in. */
  currency: string;
  description?: string;
  intent: string;
  method: string;
  /** What one unit is; absent means one request. */
  unitType?: string;
  [extension: string]: unknown;
};

export type DiscoveryOperation = {
  summary?: string;
  requestBody?: Record<string, unknown>;
  responses: Record<string, { description: string }>;
  "x-payment-info": { offers: DiscoveryOffer[] };
};

export type CreateDiscoveryDocumentReturnType = {
  openapi: "3.1.0";
  info: { title: string; version: string; description?: string };
  paths: Record<string, Partial<Record<DiscoveryHttpMethod, DiscoveryOperation>>>;
  "x-service-info"?: DiscoveryServiceInfo;
};

const HTTP_METHODS: ReadonlySet<string> = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/**
 * The OpenAPI 3.1 document of `routes`, for a seller to serve (e.g. at `/openapi.json`). Prices come from
 * each route's request, so routes priced as decimal strings need `await gate.ready()` first (or the
 * gate's `decimals` option).
 */
export function createDiscoveryDocument({ routes, info, serviceInfo }: CreateDiscoveryDocumentParameters): CreateDiscoveryDocumentReturnType {
  const paths: CreateDiscoveryDocumentReturnType["paths"] = {};
  for (const entry of routes) {
    const method = entry.method.toLowerCase();
    if (!HTTP_METHODS.has(method)) throw new ConfigurationError("routes", `Discovery route ${entry.path}: ${entry.method} is not an HTTP method`);
    if (!entry.path.startsWith("/")) throw new ConfigurationError("routes", `Discovery route ${entry.path}: a path starts with "/"`);
    const path = entry.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const item = (paths[path] ??= {});
    if (item[method as DiscoveryHttpMethod]) throw new ConfigurationError("routes", `Discovery route ${entry.method.toUpperCase()} ${entry.path} is listed twice`);
    const offers = (Array.isArray(entry.route) ? entry.route : [entry.route]) as readonly DiscoverableRoute[];
    if (offers.length === 0) throw new ConfigurationError("routes", `Discovery route ${entry.path}: no paid route given`);
    item[method as DiscoveryHttpMethod] = {
      ...(entry.summary === undefined ? {} : { summary: entry.summary }),
      ...(entry.requestBody === undefined ? {} : { requestBody: entry.requestBody }),
      responses: { "402": { description: "Payment Required" }, "200": { description: "Successful response" } },
      "x-payment-info": { offers: offers.map(sessionOffer) },
    };
  }
  return {
    openapi: "3.1.0",
    info: { version: "1.0.0", ...info },
    paths,
    ...(serviceInfo === undefined ? {} : { "x-service-info": serviceInfo }),
  };
}

/**
 * A session route's offer, as mppx derives one from a canonical request: amount, currency, description,
 * intent and method first, then the request's other fields (unitType, suggestedDeposit, recipient); its
 * methodDetails are left to the challenge, as mppx leaves them.
 */
function sessionOffer(route: DiscoverableRoute): DiscoveryOffer {
  const { amount, currency, description, methodDetails: _details, ...extensions } = formatSessionRequest(route.request);
  return {
    amount: amount as string,
    currency: currency as string,
    ...(description === undefined ? {} : { description: description as string }),
    intent: "session",
    method: "evm",
    ...extensions,
  };
}
