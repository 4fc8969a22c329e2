// npx hardhat run --no-compile bench/e2e/deferredBatch.ts — gas and transactions to settle N = 1, 10 and 50
// EIP-3009 payments (x402 `exact`, MPP charge `authorization`) one by one (one transferWithAuthorization
// each, as the gate does before answering) and in one Multicall3 `aggregate3` batch (deferred settlement),
// on a local hardhat node. Prints a table; writes nothing.
import { createWalletClient, type Hex, http } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { transferWithAuthorizationTypes } from "../../sdk/src/authorization/eip3009Abi.js";
import { getTokenDomain } from "../../sdk/src/authorization/getTokenDomain.js";
import type { TransferAuthorization } from "../../sdk/src/protocol/x402.js";
import { aggregateTransferAuthorizations } from "../../sdk/src/transactions/aggregateTransferAuthorizations.js";
import { transferWithAuthorization } from "../../sdk/src/transactions/transferWithAuthorization.js";
import { startLocalChain } from "../../scripts/localChain.js";
import { deployMulticall3 } from "../../test/server/e2e/deferredFixture.js";

const PRICE = 10_000n;
const COUNTS = [1, 10, 50];

const chain = await startLocalChain();
try {
  const multicall3 = await deployMulticall3(chain);
  const seller = chain.account(1);
  const client = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: seller });
  const domain = await getTokenDomain({ client: chain.publicClient, token: chain.token });
  // The seller already holds the token, so no run pays for its balance's first write.
  await chain.mint(seller.address, 1n);

  async function authorizations(count: number) {
    // One buyer per payment, as in production: each transfer touches its own payer's balance.
    const signed = [];
    for (let i = 0; i < count; i++) {
      // Buyers need no ether: the seller sends every transaction.
      const buyer = privateKeyToAccount(generatePrivateKey());
      await chain.mint(buyer.address, PRICE);
      const authorization: TransferAuthorization = {
        from: buyer.address,
        to: seller.address,
        value: PRICE,
        validAfter: 0n,
        validBefore: BigInt(Math.floor(Date.now() / 1000) + 3600),
        nonce: `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")}` as Hex,
      };
      const signature = await buyer.signTypedData({ domain, types: transferWithAuthorizationTypes, primaryType: "TransferWithAuthorization", message: authorization });
      signed.push({ authorization, signature });
    }
    return signed;
  }

  const rows = [];
  for (const count of COUNTS) {
    let oneByOneGas = 0n;
    for (const transfer of await authorizations(count)) {
      const { receipt } = await transferWithAuthorization({ client, token: chain.token, ...transfer });
      oneByOneGas += receipt.gasUsed;
    }
    const batch = await aggregateTransferAuthorizations({ client, multicall3, token: chain.token, transfers: await authorizations(count) });
    if (batch.used.some((used) => !used)) throw new Error("a batched transfer failed");
    const batchGas = batch.receipt.gasUsed;
    rows.push({
      N: count,
      "one by one: txs": count,
      "one by one: gas": Number(oneByOneGas),
      "gas/payment": Number(oneByOneGas / BigInt(count)),
      "batch: txs": 1,
      "batch: gas": Number(batchGas),
      "batch gas/payment": Number(batchGas / BigInt(count)),
      saved: `${(100 * (1 - Number(batchGas) / Number(oneByOneGas))).toFixed(1)}%`,
    });
  }
  console.table(rows);
} finally {
  await chain.stop();
}
