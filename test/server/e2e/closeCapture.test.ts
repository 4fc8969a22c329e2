// Issue 8, "Close and settlement capture at most what was delivered": a buyer who prepaid (its accepted
// voucher is above what it was served) closes with a final voucher for what was delivered and what is
// still being served, and the seller closes with that one. A final voucher below that is not taken:
// the highest accepted voucher closes, as before.
import assert from "node:assert/strict";
import type { Address, Hex } from "viem";
import { getChannel } from "../../../sdk/src/channel/getChannel.js";
import type { SessionStore } from "../../../sdk/src/server/index.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { credential, fetchOffer, makeGate, type Offer, pay, Payer, SELLER, sqliteStore, startServer, type TestServer } from "./helpers.js";

const PRICE = 1_000n;
const DEPOSIT = 100_000n;

describe("server e2e: close captures what was delivered", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  let store: SessionStore;
  let server: TestServer;
  let url: string;
  let seller: Address;
  /** Requests to /slow wait for this to resolve. */
  let release: () => void = () => undefined;
  let held: Promise<void> = Promise.resolve();
  /** Channels with a request in /slow's handler. */
  const inHandler = new Set<Hex>();
  let nextAccount = 2;

  before(async function () {
    chain = await startLocalChain();
    seller = chain.account(SELLER).address;
    ({ store } = sqliteStore());
    const gate = makeGate(chain, store);
    const route = gate.session({ amount: PRICE, suggestedDeposit: DEPOSIT });
    server = await startServer((request) =>
      route.handle(request, async (incoming, payment) => {
        if (new URL(incoming.url).pathname === "/slow" && payment.method === "session") {
          inHandler.add(payment.channelId);
          await held;
        }
        return Response.json({ served: true });
      }),
    );
    url = `${server.url}/paid`;
  });

  after(async function () {
    release();
    await server?.close();
    await store?.close();
    await chain?.stop();
  });

  /** A channel with a prepaid voucher for five units, of which `served` were served. */
  async function prepaid(served: number): Promise<{ payer: Payer; channelId: Hex; offer: Offer }> {
    const payer = new Payer(chain, chain.account(nextAccount++));
    await chain.mint(payer.address, 1_000_000n);
    const offer = await fetchOffer(url);
    const opened = await payer.openOnChain(seller, DEPOSIT);
    const open = await pay(url, credential(offer.challenge, await payer.openPayload(opened, 5n * PRICE), payer.source), { method: "HEAD" });
    assert.equal(open.status, 204, await open.text());
    for (let i = 0; i < served; i++) {
      const response = await pay(url, credential(offer.challenge, await payer.voucher(opened.channelId, 5n * PRICE)));
      assert.equal(response.status, 200, await response.text());
    }
    return { payer, channelId: opened.channelId, offer };
  }

  async function close({ payer, channelId, offer }: { payer: Payer; channelId: Hex; offer: Offer }, cumulativeAmount: bigint) {
    const response = await pay(url, credential(offer.challenge, { action: "close", channelId, cumulativeAmount, signature: await payer.sign(channelId, cumulativeAmount) }), { method: "POST" });
    assert.equal(response.status, 200, await response.clone().text());
    const { settled, refund } = (await response.json()) as { settled: string; refund: string };
    return { settled, refund };
  }

  it("test_closeCapture_finalVoucherForWhatWasDeliveredClosesBelowTheAcceptedVoucher", async function () {
    const channel = await prepaid(2);
    const sellerTokens = await chain.balanceOf(seller);
    const payerTokens = await chain.balanceOf(channel.payer.address);

    const closed = await close(channel, 2n * PRICE);
    assert.deepEqual(closed, { settled: (2n * PRICE).toString(), refund: (DEPOSIT - 2n * PRICE).toString() });
    assert.equal(await chain.balanceOf(seller), sellerTokens + 2n * PRICE);
    assert.equal(await chain.balanceOf(channel.payer.address), payerTokens + DEPOSIT - 2n * PRICE);
    assert.equal((await getChannel({ client: chain.publicClient, escrow: chain.escrow, channelId: channel.channelId }))?.finalized, true);
    const stored = (await store.getChannel(channel.channelId))!;
    assert.deepEqual([stored.status, stored.acceptedCumulative, stored.spent, stored.settledOnChain], ["closed", 2n * PRICE, 2n * PRICE, 2n * PRICE]);
  });

  it("test_closeCapture_finalVoucherBelowWhatWasDeliveredClosesWithTheHighestAccepted", async function () {
    const channel = await prepaid(2);
    const sellerTokens = await chain.balanceOf(seller);
    const closed = await close(channel, PRICE);
    assert.equal(closed.settled, (5n * PRICE).toString());
    assert.equal(await chain.balanceOf(seller), sellerTokens + 5n * PRICE);
  });

  it("test_closeCapture_finalVoucherMustCoverRequestsStillBeingServed", async function () {
    // One request is served, one is in flight (its cost held): a final voucher for the served one alone
    // is not taken; one covering both is.
    const short = await prepaid(1);
    const covering = await prepaid(1);
    held = new Promise((resolve) => (release = resolve));
    const inFlight = [short, covering].map(async ({ payer, channelId, offer }) =>
      pay(`${server.url}/slow`, credential(offer.challenge, await payer.voucher(channelId, 5n * PRICE))),
    );
    try {
      for (const { channelId } of [short, covering]) {
        while (!inHandler.has(channelId)) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const sellerTokens = await chain.balanceOf(seller);
      assert.equal((await close(short, PRICE)).settled, (5n * PRICE).toString());
      assert.equal((await close(covering, 2n * PRICE)).settled, (2n * PRICE).toString());
      assert.equal(await chain.balanceOf(seller), sellerTokens + 7n * PRICE);
    } finally {
      release();
      for (const response of await Promise.all(inFlight)) await response.body?.cancel();
    }
    assert.equal((await store.getChannel(covering.channelId))!.spent, 2n * PRICE);
  });
});
