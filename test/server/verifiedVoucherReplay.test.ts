// Issue 12: an exact replay of a channel's last verified voucher is admitted without a second signature
// recovery. What the shortcut must never do: let a voucher that only looks like the remembered one (same
// amount with another signature, the signature with another amount, another channel or signer) through.
import assert from "node:assert/strict";
import { createWalletClient, type Hex, http, zeroAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { PaymentProblemError } from "../../sdk/src/protocol/problems.js";
import type { GateChain } from "../../sdk/src/server/chain.js";
import { createVoucherSignatureCheck } from "../../sdk/src/server/methods/session/verifyVoucherSignature.js";
import { signVoucher } from "../../sdk/src/voucher/signVoucher.js";
import { type LocalChain, startLocalChain } from "../../scripts/localChain.js";
import { newChannelId } from "./store/storeFixtures.js";

describe("verified voucher replays", function () {
  this.timeout(60_000);
  let chain: LocalChain;
  before(async () => {
    chain = await startLocalChain();
  });
  after(async () => {
    await chain?.stop();
  });

  function refused(problem: string) {
    return (error: unknown) => error instanceof PaymentProblemError && error.problem === problem;
  }

  it("test_voucherReplay_exactReplayPassesAndNoLookalikeRidesOnIt", async () => {
    const payer = privateKeyToAccount(generatePrivateKey());
    const walletClient = createWalletClient({ account: payer, chain: chain.chain, transport: http(chain.rpcUrl) });
    const gateChain: GateChain = { publicClient: chain.publicClient, walletClient, escrow: chain.escrow, confirmations: 1, timeout: 5_000 };
    const check = createVoucherSignatureCheck({ chainId: chain.chain.id, chain: gateChain });
    const stranger = privateKeyToAccount(generatePrivateKey());
    const channel = { channelId: newChannelId(), payer: payer.address, authorizedSigner: zeroAddress };
    const sign = (account: typeof payer, channelId: Hex, cumulativeAmount: bigint) =>
      signVoucher({ account, chainId: chain.chain.id, escrow: chain.escrow, channelId, cumulativeAmount });

    const voucher = { cumulativeAmount: 5_000n, signature: await sign(payer, channel.channelId, 5_000n) };
    assert.equal(await check(channel, voucher), false);
    // The exact replay, several times: still an EOA signature, nothing asked of the chain.
    for (let i = 0; i < 3; i++) assert.equal(await check(channel, { ...voucher }), false);

    // Same amount, another key's signature; the remembered signature with another amount.
    await assert.rejects(check(channel, { cumulativeAmount: 5_000n, signature: await sign(stranger, channel.channelId, 5_000n) }), refused("signer-mismatch"));
    await assert.rejects(check(channel, { cumulativeAmount: 6_000n, signature: voucher.signature }), refused("signer-mismatch"));
    // The remembered voucher presented for another channel, or for this channel with another signer.
    await assert.rejects(check({ ...channel, channelId: newChannelId() }, voucher), refused("signer-mismatch"));
    await assert.rejects(check({ ...channel, authorizedSigner: stranger.address }, voucher), refused("signer-mismatch"));
    // The remembered one still passes after those attempts, and a newer voucher replaces it.
    assert.equal(await check(channel, voucher), false);
    const newer = { cumulativeAmount: 7_000n, signature: await sign(payer, channel.channelId, 7_000n) };
    assert.equal(await check(channel, newer), false);
    assert.equal(await check(channel, voucher), false);
  });
});
