// An untrusted seller: a real gate behind a server that rewrites its receipts to claim more than the
// client signed. The client raises UntrustedServerError and does not take the claim into its store.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PaymentCapError, UntrustedServerError, type ClientChannel } from "../../../sdk/src/client/index.js";
import { formatReceipt, parseReceipt } from "../../../sdk/src/protocol/receipt.js";
import { toNodeHandler } from "../../../sdk/src/server/node.js";
import { startLocalChain, type LocalChain } from "../../../scripts/localChain.js";
import { buyer, PRICE, recordingFetch, type Seller, startSeller, USDC } from "./fixture.js";

type Lie = "none" | "accepted" | "spent" | "stream";

describe("client e2e: an untrusted server's receipts", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let honest: Seller;
  let liar: Server;
  let url: string;
  let lie: Lie = "none";
  let nextBuyer = 2;

  before(async function () {
    chain = await startLocalChain();
    honest = await startSeller({ chain });
    // The liar serves the honest gate's answers, with the receipt (or the stream's final receipt event) forged.
    liar = createServer(
      toNodeHandler(async (request) => {
        const response = await honest.route.handle(request, async () =>
          lie === "stream"
            ? new Response(`event: message\ndata: "photo"\n\nevent: payment-receipt\ndata: ${JSON.stringify({ channelId: "pending", spent: "0", acceptedCumulative: "0" })}\n\n`, {
                headers: { "content-type": "text/event-stream" },
              })
            : Response.json({ photo: true }),
        );
        const header = response.headers.get("payment-receipt");
        if (header === null || lie === "none") return response;
        const receipt = parseReceipt(header);
        const accepted = BigInt(String(receipt.acceptedCumulative));
        const headers = new Headers(response.headers);
        if (lie === "accepted") headers.set("payment-receipt", formatReceipt({ ...receipt, acceptedCumulative: (accepted + PRICE).toString() }));
        if (lie === "spent") headers.set("payment-receipt", formatReceipt({ ...receipt, spent: (accepted + 1n).toString() }));
        if (lie === "stream") {
          // The header receipt is honest; the final event claims ten photos more than were signed.
          const forged = { ...receipt, spent: (accepted + 10n * PRICE).toString(), acceptedCumulative: (accepted + 10n * PRICE).toString() };
          const body = `event: message\ndata: "photo"\n\nevent: payment-receipt\ndata: ${JSON.stringify(forged)}\n\n`;
          return new Response(body, { status: response.status, headers });
        }
        return new Response(response.body, { status: response.status, headers });
      }),
    );
    await new Promise<void>((resolve) => liar.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(liar.address() as AddressInfo).port}/api/photo`;
  });

  after(async function () {
    liar?.closeAllConnections();
    liar?.close();
    await honest?.stop();
    await chain?.stop();
  });

  afterEach(function () {
    lie = "none";
  });

  async function buyerWithTwoPhotos() {
    const account = chain.account(nextBuyer++);
    await chain.mint(account.address, 100n * USDC);
    const fetch = recordingFetch();
    const pay = buyer(chain, account, { fetch });
    for (let i = 0; i < 2; i++) assert.equal((await pay(url)).status, 200);
    return { pay, fetch };
  }

  /** The store after a refused receipt: only the voucher the client signed (and stored before sending) moved on. */
  function assertOnlyTheVoucherMoved(before: ClientChannel, after: ClientChannel, signed: bigint, spent = before.spent) {
    const { cumulativeAmount, signature, updatedAt, ...rest } = after;
    const { cumulativeAmount: _c, signature: _s, updatedAt: _u, ...restBefore } = before;
    assert.deepEqual(rest, { ...restBefore, spent });
    assert.equal(cumulativeAmount, signed);
    assert.ok(signature);
    void updatedAt;
  }

  it("test_untrusted_aReceiptClaimingMoreAcceptedThanSignedIsRefused", async function () {
    const { pay, fetch } = await buyerWithTwoPhotos();
    const [before] = await pay.channels();
    lie = "accepted";
    await assert.rejects(pay(url), (error: unknown) => error instanceof UntrustedServerError && error.code === "UNTRUSTED_SERVER");
    const [after] = await pay.channels();
    assertOnlyTheVoucherMoved(before!, after!, 3n * PRICE);
    assert.equal(after!.spent, 2n * PRICE, "the forged receipt's numbers are not taken");
    assert.equal(fetch.sent.at(-1)!.cumulativeAmount, 3n * PRICE);

    // With honest receipts again, the client goes by what it knows was delivered (two photos), not by the
    // claim: the seller, which charged the third, asks for a fourth voucher on top, more than one request
    // can cost from there, and the client refuses it with nothing more signed.
    lie = "none";
    await assert.rejects(pay(url), (error: unknown) => error instanceof PaymentCapError && error.cap === "maxUnitsPerRequest");
    const [resumed] = await pay.channels();
    assert.equal(resumed!.cumulativeAmount, 3n * PRICE);
    assert.equal(resumed!.spent, 2n * PRICE);
    assert.equal((await honest.store.getChannel(resumed!.channelId))!.spent, 3n * PRICE);
  });

  it("test_untrusted_aReceiptClaimingMoreSpentThanAcceptedIsRefused", async function () {
    const { pay } = await buyerWithTwoPhotos();
    const [before] = await pay.channels();
    lie = "spent";
    await assert.rejects(pay(url), UntrustedServerError);
    const [after] = await pay.channels();
    assertOnlyTheVoucherMoved(before!, after!, 3n * PRICE);
  });

  it("test_untrusted_aForgedReceiptOnTheOpenIsRefused", async function () {
    const account = chain.account(nextBuyer++);
    await chain.mint(account.address, 100n * USDC);
    const pay = buyer(chain, account);
    lie = "accepted";
    await assert.rejects(pay(url), UntrustedServerError);
    const [channel] = await pay.channels();
    assert.equal(channel!.cumulativeAmount, PRICE);
    assert.equal(channel!.spent, 0n);
    assert.equal(await pay.totalSpent(), 0n);
  });

  it("test_untrusted_aForgedFinalReceiptEventErrorsTheStream", async function () {
    const { pay } = await buyerWithTwoPhotos();
    const [before] = await pay.channels();
    lie = "stream";
    const response = await pay(url);
    assert.equal(response.status, 200);
    await assert.rejects(response.text(), UntrustedServerError);
    const [after] = await pay.channels();
    // The honest header receipt (3 photos) was taken; the forged event (13) was not.
    assertOnlyTheVoucherMoved(before!, after!, 3n * PRICE, 3n * PRICE);
  });
});
