import type { PaymentOffer } from "./GateMethod.js";

export type PaymentRequiredParameters = {
  /** Every method's part of the 402, in the gate's order of methods. */
  offers: PaymentOffer[];
  /** The problem's `detail`: the route's description, else a generic sentence. */
  detail: string;
};

/**
 * One 402 for every way a route can be paid: each offer's `WWW-Authenticate` challenges (one header
 * value each, in order), its other headers, and its body members merged into the RFC 9457 problem
 * (the problem's own members win, so a problem-details reader always finds them).
 */
export function paymentRequired({ offers, detail }: PaymentRequiredParameters): Response {
  const problem = { type: "https://paymentauth.org/problems/payment-required", title: "Payment Required", status: 402, detail };
  const body: Record<string, unknown> = { ...problem };
  const headers = new Headers({ "cache-control": "no-store", "content-type": "application/problem+json" });
  for (const offer of offers) {
    for (const challenge of offer.wwwAuthenticate ?? []) headers.append("www-authenticate", challenge);
    for (const [name, value] of Object.entries(offer.headers ?? {})) headers.set(name, value);
    for (const [name, value] of Object.entries(offer.body ?? {})) if (!(name in problem)) body[name] = value;
  }
  return new Response(JSON.stringify(body), { status: 402, headers });
}
