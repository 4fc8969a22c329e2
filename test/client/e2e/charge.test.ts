// tollgate's paying client against a real mppx 0.11 server's `evm` `charge` route (mppx/server) on the
// local chain: the seller's test key submits the EIP-3009 transfer the client signs.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Mppx } from "mppx/server";
import { charge } from "mppx/evm/server";
import { createWalletClient, http, parseAbi, publicActions } from "viem";
import { getTokenDomain } from "../../../sdk/src/authorization/getTokenDomain.js";
import { chargeChallengeHash } from "../../../sdk/src/protocol/charge.js";
import { parseCredential } from "../../../sdk/src/protocol/credential.js";
import { toNodeHandler } from "../../../sdk/src/server/node.js";
import { buyer, capError, clientSuite, SELLER } from "./fixture.js";

const transferWithAuthorizationAbi = parseAbi([
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
]);

describe("client e2e: MPP evm charge (mppx server)", function () {
  this.timeout(120_000);
  const suite = clientSuite();
  const stops: (() => Promise<void>)[] = [];
  after(async function () {
    for (const stop of stops) await stop();
  });

  /** An mppx server charging `amount` (display units of 6-decimal mock USDC) for GET /photo. */
  async function mppxSeller(amount: string) {
    const { chain } = suite;
    const account = chain.account(SELLER);
    const wallet = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account }).extend(publicActions);
    const { name, version } = await getTokenDomain({ client: chain.publicClient, token: chain.token });
    const mppx = Mppx.create({
      methods: [
        charge({
          currency: chain.token,
          recipient: account.address,
          chainId: chain.chain.id,
          decimals: 6,
          authorization: { name, version },
          async settle({ payload }) {
            const hash = await wallet.writeContract({
              address: chain.token,
              abi: transferWithAuthorizationAbi,
              functionName: "transferWithAuthorization",
              args: [payload.from as `0x${string}`, payload.to as `0x${string}`, BigInt(payload.value), BigInt(payload.validAfter), BigInt(payload.validBefore), payload.nonce as `0x${string}`, payload.signature as `0x${string}`],
            });
            await wallet.waitForTransactionReceipt({ hash });
            return { reference: hash };
          },
        }),
      ],
      secretKey: "the mppx charge test's secret key, 32+ bytes",
      realm: "photos.test",
    });
    const state = { served: 0, headers: [] as Headers[] };
    const server = createServer(
      toNodeHandler(async (request) => {
        state.headers.push(request.headers);
        const result = await mppx.charge({ amount })(request);
        if (result.status === 402) return result.challenge;
        return result.withReceipt(Response.json({ photo: ++state.served }));
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    stops.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/photo`, state, payTo: account.address };
  }

  it("test_charge_anMppxChargeRouteIsPaidWithAnAuthorizationBoundToTheChallenge", async function () {
    const shop = await mppxSeller("0.01");
    const account = await suite.freshBuyer();
    const pay = buyer(suite.chain, account, { currencies: [suite.chain.token] });
    const [buyerBefore, sellerBefore] = [await suite.chain.balanceOf(account.address), await suite.chain.balanceOf(shop.payTo)];
    const response = await pay(shop.url);
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(await response.json(), { photo: 1 });
    assert.equal(await suite.chain.balanceOf(account.address), buyerBefore - 10_000n);
    assert.equal(await suite.chain.balanceOf(shop.payTo), sellerBefore + 10_000n);
    // The 402 offered charge and (mppx's x402 compatibility) PAYMENT-REQUIRED: the rule picks charge.
    const paid = shop.state.headers[1]!;
    assert.equal(paid.get("payment-signature"), null);
    const credential = parseCredential(paid.get("authorization")!);
    assert.equal(credential.challenge.intent, "charge");
    assert.equal(credential.payload.type, "authorization");
    assert.equal(credential.payload.nonce, chargeChallengeHash(credential.challenge));
    assert.equal(credential.source, `did:pkh:eip155:${suite.chain.chain.id}:${account.address}`);
    const [payment] = await pay.payments();
    assert.equal(payment!.method, "charge");
    assert.equal(payment!.amount, 10_000n);
    assert.match(payment!.claimedTransaction ?? "", /^0x[0-9a-f]{64}$/);
    assert.equal(await pay.totalSpent(), 10_000n);
    assert.deepEqual(account.signed.typedData, ["TransferWithAuthorization"]);
  });

  it("test_charge_aChargeAboveMaxPricePerUnitIsRefusedWithNothingSigned", async function () {
    const shop = await mppxSeller("0.05");
    const account = await suite.freshBuyer();
    const before = await suite.chain.balanceOf(account.address);
    await assert.rejects(buyer(suite.chain, account, { currencies: [suite.chain.token], maxPricePerUnit: 10_000n })(shop.url), capError("maxPricePerUnit"));
    assert.deepEqual(account.signed.typedData, []);
    assert.equal(shop.state.headers.length, 1, "only the unpaid request was sent");
    assert.equal(await suite.chain.balanceOf(account.address), before);
  });

  it("test_charge_validBeforeIsTheChallengesExpiryCappedByTheClient", async function () {
    const shop = await mppxSeller("0.01");
    const account = await suite.freshBuyer();
    const started = Math.floor(Date.now() / 1000);
    assert.equal((await buyer(suite.chain, account, { currencies: [suite.chain.token], maxPaymentTimeout: 60 })(shop.url)).status, 200);
    const credential = parseCredential(shop.state.headers[1]!.get("authorization")!);
    const { expires } = credential.challenge;
    const validBefore = Number(credential.payload.validBefore);
    assert.ok(validBefore <= started + 61, `validBefore ${validBefore} is within the client's 60 s`);
    assert.ok(expires === undefined || validBefore <= Date.parse(expires) / 1000);
  });
});
