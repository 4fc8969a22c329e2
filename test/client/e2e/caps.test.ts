// The paying client's caps, against a real gate on the local chain: every refusal is a typed
// PaymentCapError naming the cap, raised before anything is signed or sent on-chain.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Address, keccak256, toHex } from "viem";
import { formatChallenge } from "../../../sdk/src/protocol/challenge.js";
import { toNodeHandler } from "../../../sdk/src/server/node.js";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { buyer, capError, countingAccount, otherChain, PRICE, recordingFetch, type Seller, startSeller, transactionsSince, USDC } from "./fixture.js";

describe("client e2e: caps", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  const sellers: Seller[] = [];
  let nextBuyer = 2;

  before(async function () {
    chain = await startLocalChain();
  });

  after(async function () {
    for (const seller of sellers) await seller.stop();
    await chain?.stop();
  });

  async function seller(parameters: Omit<Parameters<typeof startSeller>[0], "chain"> = {}) {
    const started = await startSeller({ chain, ...parameters });
    sellers.push(started);
    return started;
  }

  async function freshBuyer() {
    const account = countingAccount(chain.account(nextBuyer++));
    await chain.mint(account.address, 100n * USDC);
    return account;
  }

  /** Asserts that a refused payment left no trace: nothing signed, no transaction, the handler never ran. */
  async function assertNothingDone(account: ReturnType<typeof countingAccount>, fromBlock: bigint, shop: Seller) {
    assert.deepEqual(account.signed, { typedData: [], transactions: 0, messages: 0 });
    assert.equal(await transactionsSince(chain, fromBlock), 0);
    assert.equal(await chain.publicClient.getTransactionCount({ address: account.address }), 0);
    assert.equal(shop.served.length, 0);
  }

  it("test_maxDeposit_capsASuggestedDepositAboveTheCap", async function () {
    const shop = await seller({ route: { suggestedDeposit: 1n * USDC } });
    const account = await freshBuyer();
    const pay = buyer(chain, account, { maxDeposit: 5n * PRICE });
    const response = await pay(shop.url);
    assert.equal(response.status, 200, await response.clone().text());
    const [channel] = await pay.channels();
    assert.equal(channel!.deposit, 5n * PRICE);
    const onChain = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId: channel!.channelId });
    assert.equal(onChain!.deposit, 5n * PRICE);
  });

  it("test_maxDeposit_aPriceAboveTheDepositCapIsRefusedAsMaxDeposit", async function () {
    const shop = await seller({ route: { amount: 2n * USDC, suggestedDeposit: 10n * USDC } });
    const account = await freshBuyer();
    const fromBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    // maxPricePerUnit left to its default: the only cap the buyer set is maxDeposit, and that is what a price above it breaks.
    await assert.rejects(buyer(chain, account, { maxDeposit: 1n * USDC })(shop.url), capError("maxDeposit"));
    // With a generous per-unit cap, the deposit cap still refuses a unit it cannot escrow.
    await assert.rejects(buyer(chain, account, { maxDeposit: 1n * USDC, maxPricePerUnit: 5n * USDC })(shop.url), capError("maxDeposit"));
    await assertNothingDone(account, fromBlock, shop);
  });

  it("test_maxDeposit_aTopUpAboveTheCapIsRefusedAfterTheDepositIsSpent", async function () {
    const shop = await seller({ route: { suggestedDeposit: 2n * PRICE } });
    const account = await freshBuyer();
    const pay = buyer(chain, account, { maxDeposit: 2n * PRICE, topUpAmount: 3n * PRICE });
    for (let i = 0; i < 2; i++) assert.equal((await pay(shop.url)).status, 200);
    const signed = account.signed.typedData.length;
    const fromBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    await assert.rejects(pay(shop.url), capError("maxDeposit"));
    assert.equal(account.signed.typedData.length, signed, "nothing signed for the refused top-up");
    assert.equal(await transactionsSince(chain, fromBlock), 0);
    assert.equal(shop.served.length, 2);
  });

  it("test_maxPricePerUnit_refusesAPriceAboveTheCap", async function () {
    const shop = await seller({ route: { amount: 2n * PRICE } });
    const account = await freshBuyer();
    const fromBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const fetch = recordingFetch();
    await assert.rejects(buyer(chain, account, { maxPricePerUnit: PRICE, fetch })(shop.url), capError("maxPricePerUnit"));
    assert.equal(fetch.requests, 1, "only the unpaid request that drew the 402");
    assert.equal(fetch.sent.length, 0);
    await assertNothingDone(account, fromBlock, shop);
    // At the cap exactly, it pays.
    assert.equal((await buyer(chain, account, { maxPricePerUnit: 2n * PRICE })(shop.url)).status, 200);
  });

  for (const [label, budget, photos] of [
    ["OneBelowThreePhotos_buysTwo", 3n * PRICE - 1n, 2],
    ["ExactlyThreePhotos_buysThree", 3n * PRICE, 3],
    ["OneAboveThreePhotos_buysThree", 3n * PRICE + 1n, 3],
  ] as const) {
    it(`test_totalBudget_${label}`, async function () {
      const shop = await seller();
      const account = await freshBuyer();
      const fetch = recordingFetch();
      const pay = buyer(chain, account, { totalBudget: budget, fetch });
      let bought = 0;
      for (let i = 0; i < 5; i++) {
        try {
          const response = await pay(shop.url);
          assert.equal(response.status, 200, await response.clone().text());
          bought++;
        } catch (error) {
          capError("totalBudget")(error);
          break;
        }
      }
      assert.equal(bought, photos);
      assert.equal(shop.served.length, photos);
      assert.equal(await pay.totalAuthorized(), BigInt(photos) * PRICE);
      assert.equal(await pay.totalSpent(), BigInt(photos) * PRICE);
      assert.ok((await pay.totalAuthorized()) <= budget);
      // No credential ever carried a voucher above the budget, and the refusal is stable.
      assert.ok(fetch.sent.every((sent) => (sent.cumulativeAmount ?? 0n) <= budget));
      const signed = account.signed.typedData.length;
      await assert.rejects(pay(shop.url), capError("totalBudget"));
      assert.equal(account.signed.typedData.length, signed);
      const [channel] = await pay.channels();
      const record = await shop.store.getChannel(channel!.channelId);
      assert.equal(record!.spent, BigInt(photos) * PRICE);
      assert.equal(record!.acceptedCumulative, BigInt(photos) * PRICE);
    });
  }

  it("test_totalBudget_countsWhatClosedChannelsAuthorized", async function () {
    const shop = await seller();
    const account = await freshBuyer();
    const pay = buyer(chain, account, { totalBudget: 3n * PRICE });
    for (let i = 0; i < 2; i++) assert.equal((await pay(shop.url)).status, 200);
    assert.equal((await pay.close({ url: shop.url })).settled, 2n * PRICE);
    // A new channel with the same seller: the budget has one photo left, not three.
    assert.equal((await pay(shop.url)).status, 200);
    await assert.rejects(pay(shop.url), capError("totalBudget"));
    assert.equal(shop.served.length, 3);
    const channels = await pay.channels();
    assert.deepEqual(channels.map((channel) => [channel.status, channel.cumulativeAmount]).sort(), [["closed", 2n * PRICE], ["open", PRICE]]);
    assert.equal(await pay.totalAuthorized(), 3n * PRICE);
    assert.equal(await pay.totalSpent(), 3n * PRICE);
  });

  it("test_totalBudget_aVoucherTheBudgetRefusesCostsNoTopUp", async function () {
    const shop = await seller({ route: { suggestedDeposit: 2n * PRICE } });
    const account = await freshBuyer();
    const pay = buyer(chain, account, { totalBudget: 2n * PRICE });
    for (let i = 0; i < 2; i++) assert.equal((await pay(shop.url)).status, 200);
    const fromBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    // The third photo needs both a top-up and a voucher past the budget: neither happens.
    await assert.rejects(pay(shop.url), capError("totalBudget"));
    assert.equal(await transactionsSince(chain, fromBlock), 0);
    assert.equal((await pay.channels())[0]!.deposit, 2n * PRICE);
  });

  it("test_totalBudget_holdsAcrossChannelsUnderConcurrentRequests", async function () {
    // Two sellers, so two channels; eight concurrent requests against a budget of five photos.
    const [first, second] = [await seller(), await seller({ path: "/api/other-photo", gate: { account: chain.account(9) } })];
    const fast = await freshBuyer();
    // A signer that takes its time (a remote signer, a hardware wallet): checks and signatures interleave.
    const account = { ...fast, signTypedData: async (parameters: Parameters<typeof fast.signTypedData>[0]) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return fast.signTypedData(parameters);
    } } as typeof fast;
    const pay = buyer(chain, account, { totalBudget: 5n * PRICE });
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, index) => pay(index % 2 === 0 ? first.url : second.url)));
    const paid = outcomes.filter((outcome) => outcome.status === "fulfilled" && outcome.value.status === 200).length;
    const refused = outcomes.filter((outcome) => outcome.status === "rejected" && capError("totalBudget")(outcome.reason)).length;
    assert.equal(paid + refused, 8);
    assert.equal(paid, 5);
    assert.equal(await pay.totalAuthorized(), 5n * PRICE);
    assert.equal(first.served.length + second.served.length, 5);
  });

  it("test_escrow_anUnknownEscrowIsRefusedWithNothingSignedAndNoTransaction", async function () {
    const rogue: Address = `0x${keccak256(toHex("a rogue escrow")).slice(26)}`;
    const shop = await seller({ gate: { escrow: rogue } });
    const account = await freshBuyer();
    const fetch = recordingFetch();
    const fromBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    await assert.rejects(buyer(chain, account, { fetch })(shop.url), capError("escrow"));
    assert.equal(fetch.requests, 1);
    assert.equal(fetch.sent.length, 0);
    await assertNothingDone(account, fromBlock, shop);
  });

  it("test_chain_aChallengeForAnotherChainIsRefused", async function () {
    const shop = await seller({ gate: { chain: otherChain(chain.chain, 8453) } });
    const account = await freshBuyer();
    const fetch = recordingFetch();
    const fromBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    await assert.rejects(buyer(chain, account, { fetch })(shop.url), capError("chain"));
    assert.equal(fetch.sent.length, 0);
    await assertNothingDone(account, fromBlock, shop);
  });
  it("test_chainAndEscrow_offersThatDoNotFitAreSkippedWhenAnotherInThe402Fits", async function () {
    // A seller offering three ways to pay in one 402: another chain, an unknown escrow, then this chain's escrow.
    const rogue: Address = `0x${keccak256(toHex("another rogue escrow")).slice(26)}`;
    const [foreign, unknown, local] = [
      await seller({ gate: { chain: otherChain(chain.chain, 8453) } }),
      await seller({ gate: { escrow: rogue } }),
      await seller(),
    ];
    const server = createServer(
      toNodeHandler((request) => {
        if (request.headers.get("authorization") !== null) return local.route.handle(request, async () => Response.json({ photo: true }));
        const offers = [foreign, unknown, local].map((shop) => formatChallenge(shop.route.challenge())).join(", ");
        return new Response(null, { status: 402, headers: { "www-authenticate": offers } });
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const account = await freshBuyer();
      const pay = buyer(chain, account);
      const response = await pay(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/photo`);
      assert.equal(response.status, 200, await response.clone().text());
      const [channel] = await pay.channels();
      assert.equal(channel!.escrow, chain.escrow);
      assert.equal(channel!.chainId, chain.chain.id);
      assert.equal((await local.store.getChannel(channel!.channelId))!.spent, PRICE);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
