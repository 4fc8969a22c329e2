// Request handling through the 402 round trip: bodies are read once and sent intact on every try, one
// request is paid once, and concurrent requests on one channel keep one voucher in flight.
import assert from "node:assert/strict";
import { parseEventLogs } from "viem";
import { tollgateEscrowAbi } from "../../../sdk/src/generated/tollgateEscrowAbi.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { buyer, countingAccount, PRICE, recordingFetch, type Seller, startSeller, transactionsSince, USDC } from "./fixture.js";

describe("client e2e: request bodies and concurrency", function () {
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

  async function seller(options: Partial<Parameters<typeof startSeller>[0]> = {}) {
    const started = await startSeller({ chain, path: "/api/echo", ...options });
    sellers.push(started);
    return started;
  }

  async function freshBuyer() {
    const account = countingAccount(chain.account(nextBuyer++));
    await chain.mint(account.address, 100n * USDC);
    return account;
  }

  async function committedCharges(shop: Seller) {
    return (await shop.store.listCharges({ status: "committed" })).length;
  }

  it("test_body_aJsonPostArrivesIntactThroughThe402AndIsPaidOnce", async function () {
    const shop = await seller();
    const account = await freshBuyer();
    const fetch = recordingFetch();
    // The account signs the vouchers (no session key), so that they can be counted at the account.
    const pay = buyer(chain, account, { fetch, sessionKeys: false });
    const order = { photo: 42, size: "large", note: "ünïcødé ✓", items: [1, 2, 3] };

    // Cold: the POST draws a 402, the client opens and sends the same body again.
    const response = await pay(shop.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(order) });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(fetch.requests, 2, "the unpaid try and the paid one");
    assert.deepEqual(shop.served.map((served) => [served.method, JSON.parse(served.body)]), [["POST", order]]);
    assert.deepEqual(fetch.sent.map((sent) => [sent.action, sent.cumulativeAmount, sent.status]), [["open", PRICE, 200]]);

    // Warm, with the body inside a Request: one voucher, no 402.
    const second = await pay(new Request(shop.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...order, photo: 43 }) }));
    assert.equal(second.status, 200);
    assert.equal(JSON.parse(shop.served[1]!.body).photo, 43);
    assert.deepEqual(fetch.sent.slice(1).map((sent) => [sent.action, sent.cumulativeAmount, sent.status]), [["voucher", 2n * PRICE, 200]]);

    assert.equal(shop.served.length, 2);
    assert.equal(await committedCharges(shop), 2);
    assert.equal(account.signed.typedData.filter((type) => type === "Voucher").length, 2);
    assert.equal(await pay.totalSpent(), 2n * PRICE);
    assert.equal(await pay.totalAuthorized(), 2n * PRICE);
  });

  async function streamedPut(shop: Seller, chunkCount: number) {
    const account = await freshBuyer();
    const fetch = recordingFetch();
    const pay = buyer(chain, account, { fetch });
    const text = "x".repeat(16 * 1024);
    const chunks = Array.from({ length: chunkCount }, (_, index) => `${String(index).padStart(4, "0")}${text.slice(4)}`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
        controller.close();
      },
    });
    // The unpaid try that draws the 402 already carries the whole body; the paid retry sends it again.
    const response = await pay(shop.url, { method: "PUT", body, duplex: "half" } as RequestInit);
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(shop.served.length, 1);
    assert.equal(shop.served[0]!.body, chunks.join(""));
    assert.equal(fetch.requests, 2);
    assert.equal(fetch.sent.length, 1);
    assert.equal(await committedCharges(shop), 1);
  }

  it("test_body_aStreamedBodyIsReadOnceAndSentIntactOnTheRetry", async function () {
    await streamedPut(await seller(), 4); // 64 KiB in 4 chunks
  });

  // Fails today on the server side: toNodeHandler answers the unpaid try with a 402 without reading its
  // body, leaves the rest of a large body unread on the keep-alive connection, and the paid retry on that
  // connection hangs until the server resets it (ECONNRESET after about 6 s). Reported to the server owner.
  it("test_body_aOneMegabyteBodyThroughThe402KeepsTheConnectionUsable", async function () {
    await streamedPut(await seller(), 64); // 1 MiB in 64 chunks
  });

  it("test_concurrency_twentyConcurrentRequestsFromOneClientArePaidOnceEach", async function () {
    const shop = await seller();
    const account = await freshBuyer();
    const fetch = recordingFetch();
    const pay = buyer(chain, account, { fetch, sessionKeys: false });
    const startBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });

    // Cold: all twenty draw a 402 at once; one opens the channel, the others pay on it in turn.
    const cold = await Promise.all(Array.from({ length: 20 }, (_, index) => pay(`${shop.url}?n=${index}`)));
    assert.deepEqual(cold.map((response) => response.status), Array(20).fill(200));
    // Warm: twenty more on the open channel.
    const warm = await Promise.all(Array.from({ length: 20 }, (_, index) => pay(`${shop.url}?n=${20 + index}`, { method: "POST", body: `order ${20 + index}` })));
    assert.deepEqual(warm.map((response) => response.status), Array(20).fill(200));

    const [channel] = await pay.channels();
    assert.equal(channel!.spent, 40n * PRICE);
    assert.equal(channel!.cumulativeAmount, 40n * PRICE, "the highest voucher is exactly what was spent");
    assert.equal(await pay.totalSpent(), 40n * PRICE);
    // One open, then one voucher per request, each one price above the last: no failed or repeated tries.
    assert.equal(fetch.sent.filter((sent) => sent.action === "open").length, 1);
    assert.ok(fetch.sent.every((sent) => sent.status === 200), JSON.stringify(fetch.sent.map((sent) => sent.status)));
    assert.deepEqual(
      fetch.sent.map((sent) => sent.cumulativeAmount),
      Array.from({ length: 40 }, (_, index) => BigInt(index + 1) * PRICE),
    );
    assert.equal(account.signed.typedData.length, 40);
    const record = await shop.store.getChannel(channel!.channelId);
    assert.equal(record!.spent, 40n * PRICE);
    assert.equal(record!.acceptedCumulative, 40n * PRICE);
    assert.equal(record!.reserved, 0n);
    assert.equal(await committedCharges(shop), 40);
    assert.deepEqual(shop.served.filter((served) => served.method === "POST").map((served) => served.body).sort(), Array.from({ length: 20 }, (_, index) => `order ${20 + index}`).sort());
    const logs = await chain.publicClient.getLogs({ address: chain.escrow, fromBlock: startBlock + 1n });
    assert.equal(parseEventLogs({ abi: tollgateEscrowAbi, eventName: "ChannelOpened", logs }).length, 1);
    assert.equal(await transactionsSince(chain, startBlock), 2, "approve + open");
  });
  it("test_concurrency_channelsWithThreeSellersOpenAndTopUpConcurrentlyFromOneAccount", async function () {
    // Three channels from one account at once: their approve/open and approve/topUp pairs share the
    // account's nonce and its allowance, so the client must send them one after another.
    const shops = [await seller({ route: { suggestedDeposit: 2n * PRICE } }), await seller({ route: { suggestedDeposit: 2n * PRICE }, gate: { account: chain.account(8) } }), await seller({ route: { suggestedDeposit: 2n * PRICE }, gate: { account: chain.account(9) } })];
    const account = await freshBuyer();
    const pay = buyer(chain, account);
    const startBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const rounds = await Promise.allSettled(Array.from({ length: 9 }, (_, index) => pay(shops[index % 3]!.url)));
    assert.deepEqual(rounds.map((outcome) => (outcome.status === "fulfilled" ? outcome.value.status : String(outcome.reason))), Array(9).fill(200));
    const channels = await pay.channels();
    assert.equal(channels.length, 3);
    // Three photos on a deposit of two: each channel opened once and topped up once.
    assert.ok(channels.every((channel) => channel.deposit === 4n * PRICE && channel.cumulativeAmount === 3n * PRICE && channel.spent === 3n * PRICE));
    assert.equal(await transactionsSince(chain, startBlock), 12, "approve + open, approve + topUp, for each of three channels");
    assert.equal(await chain.publicClient.getTransactionCount({ address: account.address }), 12);
  });
});
