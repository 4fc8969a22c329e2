// Issue 4, item 1: a whole session against the gate over HTTP on the real chain, type hash funding:
// open → vouchers → top-up → close, with exact accounting in the store and exact balances on-chain,
// a receipt on every success and the required headers on every 402.
import assert from "node:assert/strict";
import type { Hex } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import type { PaymentGate, SessionStore } from "../../../sdk/src/server/index.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import {
  credential,
  expectProblem,
  fetchOffer,
  makeGate,
  type Offer,
  pay,
  Payer,
  PROBLEMS,
  randomBytes32,
  readOffer,
  receiptOf,
  SELLER,
  SESSION_PROBLEMS,
  snapshot,
  sqliteStore,
  startServer,
  type TestServer,
} from "./helpers.js";

const PRICE = 10_000n;

describe("server e2e: open → vouchers → top-up → close (type hash)", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let store: SessionStore;
  let gate: PaymentGate;
  let server: TestServer;
  let url: string;

  before(async function () {
    chain = await startLocalChain();
    ({ store } = sqliteStore());
    gate = makeGate(chain, store);
    const route = gate.session({ amount: PRICE, unitType: "photo", suggestedDeposit: 50_000n });
    server = await startServer((request) =>
      route.handle(request, async (_request, payment) => Response.json({ photo: "ok", units: payment.units.toString() })),
    );
    url = `${server.url}/photo`;
  });

  after(async function () {
    await server?.close();
    await store?.close();
    await chain?.stop();
  });

  it("test_lifecycle_accountsExactlyAndPaysOutExactlyOnChain", async function () {
    const seller = chain.account(SELLER).address;
    const payer = new Payer(chain, chain.account(2));
    await chain.mint(payer.address, 1_000_000n);
    const sellerBefore = await chain.balanceOf(seller);
    const payerBefore = await chain.balanceOf(payer.address);
    const escrowBefore = await chain.balanceOf(chain.escrow);

    // No credential: a 402 with a challenge, no-store, and the payment-required problem.
    const unpaid = await fetch(url);
    const offer: Offer = readOffer(unpaid.clone());
    await expectProblem(unpaid, 402, `${PROBLEMS}payment-required`);
    assert.equal(offer.request.amount, PRICE);
    assert.equal(offer.request.recipient, seller);
    assert.equal(offer.request.methodDetails.escrowContract, chain.escrow);

    // Open with the payer's own transaction; the first voucher pays the first photo.
    const opened = await payer.openOnChain(seller, 50_000n);
    const first = await pay(url, credential(offer.challenge, await payer.openPayload(opened, PRICE), payer.source));
    assert.equal(first.status, 200, await first.clone().text());
    let receipt = receiptOf(first);
    assert.deepEqual(
      { ...receipt, timestamp: undefined },
      {
        method: "evm",
        intent: "session",
        status: "success",
        timestamp: undefined,
        reference: opened.channelId,
        challengeId: offer.challenge.id,
        channelId: opened.channelId,
        chainId: chain.chain.id,
        acceptedCumulative: "10000",
        spent: "10000",
        units: 1,
      },
    );
    assert.deepEqual(await first.json(), { photo: "ok", units: "1" });

    // Four more vouchers, each one photo higher, up to the whole deposit.
    for (let i = 2n; i <= 5n; i++) {
      const response = await pay(url, credential(offer.challenge, await payer.voucher(opened.channelId, i * PRICE)));
      assert.equal(response.status, 200, await response.clone().text());
      receipt = receiptOf(response);
      assert.equal(receipt.acceptedCumulative, (i * PRICE).toString());
      assert.equal(receipt.spent, (i * PRICE).toString());
      await response.body?.cancel();
    }

    // A voucher beyond the deposit is refused; so is a request the accepted vouchers no longer cover.
    await expectProblem(
      await pay(url, credential(offer.challenge, await payer.voucher(opened.channelId, 6n * PRICE))),
      402,
      `${SESSION_PROBLEMS}amount-exceeds-deposit`,
    );
    const broke = await pay(url, credential(offer.challenge, await payer.voucher(opened.channelId, 5n * PRICE)));
    const fresh = readOffer(broke.clone());
    const problem = await expectProblem(broke, 402, `${SESSION_PROBLEMS}insufficient-balance`);
    assert.equal(problem.requiredCumulative, (6n * PRICE).toString());
    assert.equal(problem.channelId, opened.channelId);
    // The fresh challenge names the channel, and is accepted like the first one.
    assert.equal(fresh.request.methodDetails.channelId, opened.channelId);

    // Top up with the payer's own transaction; HEAD carries the topUp credential (no content, a receipt).
    const topUpHash = await payer.topUpOnChain(opened.channelId, 50_000n);
    const topUp = await pay(
      url,
      credential(fresh.challenge, { action: "topUp", type: "hash", channelId: opened.channelId, hash: topUpHash, additionalDeposit: 50_000n }, payer.source),
      { method: "HEAD" },
    );
    assert.equal(topUp.status, 204);
    receipt = receiptOf(topUp);
    assert.equal(receipt.spent, "50000");
    assert.equal((await store.getChannel(opened.channelId))!.deposit, 100_000n);

    const sixth = await pay(url, credential(fresh.challenge, await payer.voucher(opened.channelId, 6n * PRICE)));
    assert.equal(sixth.status, 200, await sixth.clone().text());
    assert.equal(receiptOf(sixth).spent, "60000");

    const beforeClose = (await store.getChannel(opened.channelId))!;
    assert.equal(beforeClose.acceptedCumulative, 60_000n);
    assert.equal(beforeClose.spent, 60_000n);
    assert.equal(beforeClose.reserved, 0n);
    assert.equal(beforeClose.units, 6n);
    assert.equal(beforeClose.settledOnChain, 0n);
    assert.equal(beforeClose.deposit, 100_000n);
    const committed = (await snapshot(store)).charges.filter((charge) => charge.status === "committed" && charge.channelId === opened.channelId);
    assert.equal(committed.length, 6);
    assert.equal(committed.reduce((sum, charge) => sum + charge.amount, 0n), 60_000n);

    // Cooperative close with the final voucher: the seller gets what was spent, the payer the rest.
    const close = await pay(
      url,
      credential(fresh.challenge, { action: "close", channelId: opened.channelId, cumulativeAmount: 6n * PRICE, signature: await payer.sign(opened.channelId, 6n * PRICE) }),
      { method: "POST" },
    );
    assert.equal(close.status, 200, await close.clone().text());
    receipt = receiptOf(close);
    const closed = (await close.json()) as { settled: string; refund: string; txHash: Hex };
    assert.deepEqual({ settled: closed.settled, refund: closed.refund }, { settled: "60000", refund: "40000" });
    assert.equal(receipt.txHash, closed.txHash);
    assert.equal((await chain.publicClient.getTransactionReceipt({ hash: closed.txHash })).status, "success");

    const after = (await store.getChannel(opened.channelId))!;
    assert.equal(after.status, "closed");
    assert.equal(after.settledOnChain, 60_000n);
    assert.equal(after.acceptedCumulative, 60_000n);
    assert.equal(after.spent, 60_000n);
    const onChain = await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId: opened.channelId });
    assert.equal(onChain?.finalized, true);
    assert.equal(onChain?.settled, 60_000n);
    assert.equal(await chain.balanceOf(seller), sellerBefore + 60_000n);
    assert.equal(await chain.balanceOf(payer.address), payerBefore - 60_000n);
    assert.equal(await chain.balanceOf(chain.escrow), escrowBefore);

    // The channel is gone for good: 410, and nothing about it changes any more.
    const frozen = await snapshot(store);
    await expectProblem(await pay(url, credential(fresh.challenge, await payer.voucher(opened.channelId, 6n * PRICE))), 410, `${SESSION_PROBLEMS}channel-finalized`);
    assert.deepEqual(await snapshot(store), frozen);
  });

  it("test_lifecycle_aTopUpTheServerWasNotToldOfIsReadFromTheChainWhenAVoucherNeedsIt", async function () {
    const seller = chain.account(SELLER).address;
    const payer = new Payer(chain, chain.account(4));
    await chain.mint(payer.address, 1_000_000n);
    const offer = await fetchOffer(url);
    const opened = await payer.openOnChain(seller, 20_000n);
    for (const amount of [PRICE, 2n * PRICE]) {
      const response = await pay(url, credential(offer.challenge, amount === PRICE ? await payer.openPayload(opened, amount) : await payer.voucher(opened.channelId, amount), payer.source));
      assert.equal(response.status, 200, await response.text());
    }
    // The payer tops up on-chain and goes straight on with a voucher beyond the deposit the server knows.
    await payer.topUpOnChain(opened.channelId, 20_000n);
    const beyond = await pay(url, credential(offer.challenge, await payer.voucher(opened.channelId, 3n * PRICE)));
    assert.equal(beyond.status, 200, await beyond.text());
    const stored = (await store.getChannel(opened.channelId))!;
    assert.deepEqual([stored.deposit, stored.acceptedCumulative, stored.spent], [40_000n, 3n * PRICE, 3n * PRICE]);
    // Beyond even the new deposit: refused.
    await expectProblem(await pay(url, credential(offer.challenge, await payer.voucher(opened.channelId, 40_001n))), 402, `${SESSION_PROBLEMS}amount-exceeds-deposit`);
  });

  it("test_lifecycle_openVoucherOfZeroThenPaysWithTheNextVoucher", async function () {
    // The draft's typical open carries a voucher of "0": the open is recorded, the request is not served.
    const seller = chain.account(SELLER).address;
    const payer = new Payer(chain, chain.account(3));
    await chain.mint(payer.address, 1_000_000n);
    const offer = await fetchOffer(url);
    const opened = await payer.openOnChain(seller, 30_000n, randomBytes32());
    const open = await pay(url, credential(offer.challenge, await payer.openPayload(opened, 0n), payer.source));
    const problem = await expectProblem(open, 402, `${SESSION_PROBLEMS}insufficient-balance`);
    assert.equal(problem.requiredCumulative, PRICE.toString());
    const paid = await pay(url, credential(offer.challenge, await payer.voucher(opened.channelId, PRICE)));
    assert.equal(paid.status, 200, await paid.clone().text());
    assert.deepEqual([receiptOf(paid).acceptedCumulative, receiptOf(paid).spent], ["10000", "10000"]);
  });
});
