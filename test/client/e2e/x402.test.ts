// tollgate's paying client against real x402 sellers on a local chain: an @x402/express v2 seller whose
// facilitator is @x402/core + @x402/evm's exact facilitator over HTTP, and a v1 seller.
import assert from "node:assert/strict";
import { http } from "viem";
import { getTokenDomain } from "../../../sdk/src/authorization/getTokenDomain.js";
import { createPayingFetch, type PayingFetchParameters } from "../../../sdk/src/client/index.js";
import { type LocalChain, startLocalChain } from "../../../scripts/localChain.js";
import { capError, countingAccount, recordingFetch, USDC } from "./fixture.js";
import { type Listening, startFacilitator, startV1Seller, startX402Seller } from "./x402Sellers.js";

const PRICE = 10_000n;
const SELLER = 1;

describe("client e2e: x402 sellers", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let facilitator: Listening;
  let domain: { name: string; version: string };
  const stops: Listening[] = [];
  let nextBuyer = 2;

  before(async function () {
    chain = await startLocalChain();
    facilitator = await startFacilitator({ chain, account: chain.account(SELLER) });
    stops.push(facilitator);
    const { name, version } = await getTokenDomain({ client: chain.publicClient, token: chain.token });
    domain = { name, version };
  });

  after(async function () {
    for (const stop of stops) await stop.stop();
    await chain?.stop();
  });

  async function freshBuyer() {
    const account = countingAccount(chain.account(nextBuyer++));
    await chain.mint(account.address, 100n * USDC);
    return account;
  }

  const payTo = () => chain.account(SELLER).address;
  const pay = (account: ReturnType<typeof countingAccount>, options: Partial<PayingFetchParameters> = {}) =>
    createPayingFetch({ account, chain: chain.chain, transport: http(chain.rpcUrl), maxDeposit: 10n * USDC, escrows: [chain.escrow], currencies: [chain.token], ...options });

  async function seller(parameters: { amount?: bigint; v1?: boolean } = {}) {
    const common = { chain, facilitatorUrl: facilitator.url, payTo: payTo(), amount: parameters.amount ?? PRICE, domain };
    const started = parameters.v1 ? await startV1Seller({ ...common, account: chain.account(SELLER), network: `eip155:${chain.chain.id}` }) : await startX402Seller(common);
    stops.push(started);
    return started;
  }

  it("test_x402_aV2ExpressSellerIsPaidAndBalancesMoveExactlyThePrice", async function () {
    const shop = await seller();
    const account = await freshBuyer();
    const fetch = recordingFetch();
    const client = pay(account, { fetch });
    const [buyerBefore, sellerBefore] = [await chain.balanceOf(account.address), await chain.balanceOf(payTo())];
    const response = await client(shop.url);
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(await response.json(), { photo: 1 });
    assert.equal(await chain.balanceOf(account.address), buyerBefore - PRICE);
    assert.equal(await chain.balanceOf(payTo()), sellerBefore + PRICE);
    assert.deepEqual(account.signed.typedData, ["TransferWithAuthorization"]);
    assert.equal(account.signed.transactions, 0, "the buyer sends no transaction: the facilitator does");
    const [payment] = await client.payments();
    assert.equal(payment!.method, "x402");
    assert.equal(payment!.x402Version, 2);
    assert.equal(payment!.amount, PRICE);
    assert.match(payment!.claimedTransaction ?? "", /^0x[0-9a-f]{64}$/);
    const mined = await chain.publicClient.getTransactionReceipt({ hash: payment!.claimedTransaction! });
    assert.equal(mined.status, "success");
    assert.equal(await client.totalSpent(), PRICE);
    assert.equal(await client.totalAuthorized(), PRICE);
    // A second request pays again: x402 `exact` is one transfer per request.
    assert.equal((await client(shop.url)).status, 200);
    assert.equal(await chain.balanceOf(account.address), buyerBefore - 2n * PRICE);
    assert.equal(await client.totalSpent(), 2n * PRICE);
  });

  it("test_x402_aV2PriceAboveMaxPricePerUnitIsRefusedWithNothingSignedOrSent", async function () {
    const shop = await seller({ amount: 5n * PRICE });
    const account = await freshBuyer();
    const fetch = recordingFetch();
    const before = await chain.balanceOf(account.address);
    const seen: string[] = [];
    const watching = Object.assign(async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      for (const name of ["payment-signature", "x-payment", "authorization"]) if (request.headers.has(name)) seen.push(name);
      return fetch(request);
    });
    await assert.rejects(pay(account, { fetch: watching, maxPricePerUnit: PRICE })(shop.url), capError("maxPricePerUnit"));
    assert.deepEqual(account.signed, { typedData: [], transactions: 0, messages: 0 });
    assert.deepEqual(seen, [], "no payment header sent");
    assert.equal(await chain.balanceOf(account.address), before);
    assert.equal(shop.served, 0);
  });

  it("test_x402_aPriceAboveMaxDepositIsRefusedWhenNoPriceCapIsSet", async function () {
    const shop = await seller({ amount: 2n * USDC });
    const account = await freshBuyer();
    await assert.rejects(pay(account, { maxDeposit: 1n * USDC })(shop.url), capError("maxDeposit"));
    assert.deepEqual(account.signed.typedData, []);
  });

  it("test_x402_totalBudgetCountsOneTimePayments", async function () {
    const shop = await seller();
    const account = await freshBuyer();
    const client = pay(account, { totalBudget: 2n * PRICE });
    assert.equal((await client(shop.url)).status, 200);
    assert.equal((await client(shop.url)).status, 200);
    await assert.rejects(client(shop.url), capError("totalBudget"));
    assert.equal(account.signed.typedData.length, 2);
    assert.equal(shop.served, 2);
  });

  it("test_x402_aV1SellerIsPaidWithXPayment", async function () {
    const shop = await seller({ v1: true });
    const account = await freshBuyer();
    const seen: string[] = [];
    const client = pay(account, {
      fetch: async (input, init) => {
        const request = new Request(input, init);
        if (request.headers.has("x-payment")) seen.push("x-payment");
        return fetch(request);
      },
    });
    const [buyerBefore, sellerBefore] = [await chain.balanceOf(account.address), await chain.balanceOf(payTo())];
    const response = await client(shop.url);
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(seen, ["x-payment"]);
    assert.equal(await chain.balanceOf(account.address), buyerBefore - PRICE);
    assert.equal(await chain.balanceOf(payTo()), sellerBefore + PRICE);
    const [payment] = await client.payments();
    assert.equal(payment!.x402Version, 1);
    assert.match(payment!.claimedTransaction ?? "", /^0x[0-9a-f]{64}$/);
  });
});
