import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { http } from "viem";
import { createPayingFetch } from "../../sdk/src/client/index.js";
import { createPaymentGate } from "../../sdk/src/server/index.js";
import { createSqliteStore } from "../../sdk/src/server/sqlite.js";
import { toNodeHandler } from "../../sdk/src/server/node.js";
import { startLocalChain, type LocalChain } from "../../scripts/localChain.js";

const PHOTO_PRICE = 10_000n; // $0.01 in 6-decimal USDC

describe("e2e: a paid session between the paying client and the gate", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let server: Server;
  let url: string;

  before(async function () {
    chain = await startLocalChain();
    const seller = chain.account(1);
    const store = createSqliteStore({ path: join(mkdtempSync(join(tmpdir(), "tollgate-e2e-")), "gate.db") });
    const gate = createPaymentGate({
      chain: chain.chain,
      transport: http(chain.rpcUrl),
      escrow: chain.escrow,
      currency: chain.token,
      account: seller,
      store,
      secret: "an e2e test secret that is long enough",
    });
    const route = gate.session({ amount: PHOTO_PRICE, unitType: "photo", suggestedDeposit: 1_000_000n });
    server = createServer(toNodeHandler((request) => route.handle(request, async (_request, payment) => Response.json({ photo: "ok", units: payment.units.toString() }))));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/sessions/photo`;
  });

  after(async function () {
    server?.close();
    await chain?.stop();
  });

  it("test_session_buysPhotosWithOneOpenAndClosesWithARefund", async function () {
    const buyer = chain.account(2);
    await chain.mint(buyer.address, 100_000_000n);
    const sellerBefore = await chain.balanceOf(chain.account(1).address);
    const buyerBefore = await chain.balanceOf(buyer.address);
    const pay = createPayingFetch({ account: buyer, chain: chain.chain, transport: http(chain.rpcUrl), maxDeposit: 5_000_000n, escrows: [chain.escrow] });

    for (let i = 0; i < 3; i++) {
      const response = await pay(url);
      assert.equal(response.status, 200, await response.clone().text());
      assert.ok(response.headers.get("payment-receipt"));
    }
    assert.equal(await pay.totalSpent(), 3n * PHOTO_PRICE);
    const result = await pay.close({ url });
    assert.equal(result.settled, 3n * PHOTO_PRICE);
    assert.equal(result.refund, 1_000_000n - 3n * PHOTO_PRICE);
    assert.equal(await chain.balanceOf(chain.account(1).address), sellerBefore + 3n * PHOTO_PRICE);
    assert.equal(await chain.balanceOf(buyer.address), buyerBefore - 3n * PHOTO_PRICE);
  });
});
