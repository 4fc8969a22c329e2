// Fixtures of the per-request payment tests (x402 `exact`, MPP `evm` charge): a gate offering a
// method beside the session, a handler whose status and side effects a request chooses, and a payer
// that signs EIP-3009 authorizations exactly as a test needs them (valid or not).
import assert from "node:assert/strict";
import { type Address, erc20Abi, type Hex, type LocalAccount } from "viem";
import { parseChallenges, type PaymentChallenge } from "../../../sdk/src/protocol/challenge.js";
import { transferWithAuthorizationTypes } from "../../../sdk/src/authorization/eip3009Abi.js";
import { getTokenDomain } from "../../../sdk/src/authorization/getTokenDomain.js";
import type { TokenDomain } from "../../../sdk/src/authorization/TokenDomain.js";
import type { TransferAuthorization } from "../../../sdk/src/protocol/x402.js";
import type { GateMethodFactory, PaymentGateParameters } from "../../../sdk/src/server/index.js";
import type { LocalChain } from "../../../scripts/localChain.js";
import { makeGate, randomBytes32, type SellerChain, sqliteStore, startServer } from "./helpers.js";

export const PRICE = 10_000n;

/**
 * A gate on its own SQLite store offering `methods` beside the session, behind a real server. A request's
 * `x-status` header picks the handler's status; `x-drain` makes the handler first move the payer's whole
 * balance away (so that settlement reverts). Resolves with the route's URL and the handler's call count.
 */
export async function startOneTimeGate(suite: SellerChain, methods: GateMethodFactory[], drain?: LocalAccount, overrides: Partial<PaymentGateParameters> = {}) {
  const { store } = sqliteStore();
  suite.stores.push(store);
  const gate = makeGate(suite.chain, store, { methods, ...overrides });
  const route = gate.session({ amount: PRICE, description: "one photo" });
  const served = { count: 0 };
  const server = await startServer((request) =>
    route.handle(request, async () => {
      served.count++;
      if (drain && request.headers.has("x-drain")) await moveAll(suite.chain, drain);
      return Response.json({ photo: "ok" }, { status: Number(request.headers.get("x-status") ?? 200) });
    }),
  );
  suite.servers.push(server);
  return { gate, store, url: `${server.url}/photo`, served };
}

async function moveAll(chain: LocalChain, account: LocalAccount) {
  const { createWalletClient, http } = await import("viem");
  const wallet = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account });
  const balance = await chain.balanceOf(account.address);
  const hash = await wallet.writeContract({ address: chain.token, abi: erc20Abi, functionName: "transfer", args: [chain.account(9).address, balance] });
  await chain.publicClient.waitForTransactionReceipt({ hash });
}

/** Signs EIP-3009 authorizations for `account` under the token's domain, or a domain a test bends. */
export async function authorizationSigner(chain: LocalChain, account: LocalAccount) {
  const tokenDomain = await getTokenDomain({ client: chain.publicClient, token: chain.token });
  return async function sign(fields: Partial<TransferAuthorization> & { to: Address; value: bigint }, domain: Partial<TokenDomain> = {}): Promise<{ authorization: TransferAuthorization; signature: Hex }> {
    const now = BigInt(Math.floor(Date.now() / 1000));
    const authorization: TransferAuthorization = { from: account.address, validAfter: 0n, validBefore: now + 300n, nonce: randomBytes32(), ...fields };
    const signature = await account.signTypedData({ domain: { ...tokenDomain, ...domain }, types: transferWithAuthorizationTypes, primaryType: "TransferWithAuthorization", message: authorization });
    return { authorization, signature };
  };
}

/** The `evm` charge challenge of the 402 an unpaid request to `url` gets. */
export async function fetchChargeChallenge(url: string): Promise<PaymentChallenge> {
  const response = await fetch(url);
  await response.body?.cancel();
  const challenge = parseChallenges(response.headers.get("www-authenticate")!).find((candidate) => candidate.intent === "charge");
  assert.ok(challenge, "no charge challenge");
  return challenge;
}

/** Buys two requests to `url` with `pay`; asserts both served and that exactly twice the price moved from the payer to the seller. */
export async function buyTwice(suite: SellerChain, pay: (url: string) => Promise<Response>, url: string, served: { count: number }) {
  const [sellerBefore, buyerBefore] = [await suite.chain.balanceOf(suite.seller), await suite.chain.balanceOf(suite.payer.address)];
  for (let i = 0; i < 2; i++) {
    const response = await pay(url);
    assert.equal(response.status, 200, await response.clone().text());
  }
  assert.equal(served.count, 2);
  assert.equal((await suite.chain.balanceOf(suite.seller)) - sellerBefore, 2n * PRICE);
  assert.equal(buyerBefore - (await suite.chain.balanceOf(suite.payer.address)), 2n * PRICE);
}
