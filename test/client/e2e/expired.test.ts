// Expired challenges: the gate's clock runs ahead past a challenge's expiry; the client retries with the
// fresh challenge of the 402 and succeeds, without signing a second voucher for the same request.
import assert from "node:assert/strict";
import { parseEventLogs } from "viem";
import { parseCredential } from "../../../sdk/src/protocol/credential.js";
import { tollgateEscrowAbi } from "../../../sdk/src/generated/tollgateEscrowAbi.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { meteredEventStream } from "../../../sdk/src/server/index.js";
import { buyer, countingAccount, PRICE, readEvents, recordingFetch, type Seller, startSeller, USDC } from "./fixture.js";

const CHALLENGE_TTL = 900; // seconds, the gate's default

describe("client e2e: expired challenges", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  const sellers: Seller[] = [];
  let nextBuyer = 2;
  /** How far the gates' clock runs ahead of the real one, in milliseconds. */
  let skew = 0;

  before(async function () {
    chain = await startLocalChain();
  });

  after(async function () {
    for (const seller of sellers) await seller.stop();
    await chain?.stop();
  });

  async function seller(feePayer = false) {
    const started = await startSeller({ chain, gate: { feePayer, challengeTtl: CHALLENGE_TTL, now: () => Date.now() + skew }, route: { suggestedDeposit: 10n * PRICE } });
    sellers.push(started);
    return started;
  }

  async function freshBuyer() {
    const account = countingAccount(chain.account(nextBuyer++));
    await chain.mint(account.address, 100n * USDC);
    return account;
  }

  const expireChallenges = () => {
    skew += (CHALLENGE_TTL + 1) * 1000;
  };
  // Counted at the account: the tests that count run with `sessionKeys: false`, so the account signs the vouchers.
  const vouchersSigned = (account: ReturnType<typeof countingAccount>) => account.signed.typedData.filter((type) => type === "Voucher").length;
  const summary = (fetch: ReturnType<typeof recordingFetch>) => fetch.sent.map((sent) => [sent.action, sent.cumulativeAmount, sent.status]);

  it("test_expired_aVoucherOnAnExpiredChallengeIsRetriedWithTheFreshOne", async function () {
    const shop = await seller();
    const account = await freshBuyer();
    const fetch = recordingFetch();
    const pay = buyer(chain, account, { fetch, sessionKeys: false });
    assert.equal((await pay(shop.url)).status, 200);

    expireChallenges();
    const response = await pay(shop.url, { method: "POST", body: "second photo, please" });
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(summary(fetch), [
      ["open", PRICE, 200],
      ["voucher", 2n * PRICE, 402],
      ["voucher", 2n * PRICE, 200],
    ]);
    assert.notEqual(fetch.sent[2]!.challengeId, fetch.sent[1]!.challengeId, "the retry echoes the fresh challenge");
    assert.equal(vouchersSigned(account), 2, "one voucher per request");
    assert.deepEqual(shop.served.map((served) => served.body), ["", "second photo, please"]);
    assert.equal((await shop.store.listCharges({ status: "committed" })).length, 2);
    assert.equal(await pay.totalSpent(), 2n * PRICE);
    assert.equal(await pay.totalAuthorized(), 2n * PRICE);
  });

  for (const feePayer of [false, true]) {
    it(`test_expired_theChallengeExpiresWhileTheChannelOpens_${feePayer ? "relayed" : "onChain"}`, async function () {
      const shop = await seller(feePayer);
      const account = await freshBuyer();
      const startBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
      const recorder = recordingFetch();
      // The challenge expires between the 402 and the open credential reaching the gate.
      const slowOpen: typeof fetch = async (input, init) => {
        const authorization = new Request(input, init).headers.get("authorization");
        if (authorization !== null && parseCredential(authorization).payload.action === "open" && recorder.sent.length === 0) expireChallenges();
        return recorder(input, init);
      };
      const pay = buyer(chain, account, { fetch: slowOpen, sessionKeys: false });
      const response = await pay(shop.url);
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(vouchersSigned(account), 1, JSON.stringify(summary(recorder), (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
      assert.equal(recorder.sent.length, 2);
      assert.deepEqual(summary(recorder)[0], ["open", PRICE, 402]);
      assert.deepEqual(summary(recorder)[1]!.slice(1), [PRICE, 200]);
      const logs = await chain.publicClient.getLogs({ address: chain.escrow, fromBlock: startBlock + 1n });
      assert.equal(parseEventLogs({ abi: tollgateEscrowAbi, eventName: "ChannelOpened", logs }).length, 1);
      const channels = await pay.channels();
      assert.equal(channels.length, 1, "no second channel");
      assert.equal(await pay.totalAuthorized(), PRICE);
      assert.equal(await pay.totalSpent(), PRICE);
      assert.equal(shop.served.length, 1);
    });
  }

  it("test_expired_aCooperativeCloseOnAnExpiredChallengeIsRetriedWithTheFreshOne", async function () {
    const shop = await seller();
    const account = await freshBuyer();
    const pay = buyer(chain, account);
    for (let i = 0; i < 2; i++) assert.equal((await pay(shop.url)).status, 200);
    expireChallenges();
    const closed = await pay.close({ url: shop.url });
    assert.equal(closed.settled, 2n * PRICE);
    assert.equal(closed.refund, 8n * PRICE);
    assert.equal((await pay.channels())[0]!.status, "closed");
  });
  it("test_expired_aMidStreamVoucherOnAnExpiredChallengeIsRetriedWithTheFreshOne", async function () {
    const TOKEN = 1_000n;
    const seller: Seller = await startSeller({
      chain,
      path: "/v1/stream",
      gate: { challengeTtl: CHALLENGE_TTL, now: () => Date.now() + skew },
      route: { amount: TOKEN, suggestedDeposit: 100n * TOKEN, units: () => 0n },
      handler: (request, payment) =>
        meteredEventStream({
          gate: seller.gate,
          payment: payment.method === "session" ? payment : assert.fail("a metered stream is paid from a session"),
          price: TOKEN,
          signal: request.signal,
          voucherTimeout: 10_000,
          pollInterval: 50,
          source: (async function* () {
            for (let token = 1; token <= 6; token++) {
              // The stream outlives its challenge: from the third token on, the cached one has expired.
              if (token === 3) expireChallenges();
              yield `token-${token}`;
            }
          })(),
        }),
    });
    sellers.push(seller);
    const account = await freshBuyer();
    const fetch = recordingFetch();
    // A window of one unit: one voucher per token, so that a later one meets the expired challenge.
    const pay = buyer(chain, account, { fetch, sessionKeys: false, prepayUnits: 1n });
    const response = await pay(seller.url);
    const events = await readEvents(response);
    assert.deepEqual(events.filter((event) => event.event === "message").map((event) => event.data), Array.from({ length: 6 }, (_, index) => `token-${index + 1}`));
    assert.equal(events.at(-1)!.event, "payment-receipt");
    assert.equal(BigInt((events.at(-1)!.data as { spent: string }).spent), 6n * TOKEN);
    // Exactly one HEAD met the expired challenge; it was resent with the same voucher on the fresh one,
    // and every later voucher used the fresh one.
    const refused = fetch.sent.findIndex((sent) => sent.status === 402);
    assert.ok(refused > 0, JSON.stringify(summary(fetch), (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
    assert.equal(fetch.sent.filter((sent) => sent.status === 402).length, 1);
    assert.equal(fetch.sent[refused + 1]!.cumulativeAmount, fetch.sent[refused]!.cumulativeAmount);
    assert.notEqual(fetch.sent[refused + 1]!.challengeId, fetch.sent[refused]!.challengeId);
    assert.deepEqual(
      fetch.sent.filter((sent) => sent.status !== 402).map((sent) => sent.cumulativeAmount),
      Array.from({ length: 6 }, (_, index) => BigInt(index + 1) * TOKEN),
    );
    assert.equal(vouchersSigned(account), 6, "one voucher per token");
    assert.equal(await pay.totalAuthorized(), 6n * TOKEN);
  });
});
