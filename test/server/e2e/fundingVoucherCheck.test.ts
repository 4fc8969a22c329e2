// A funding credential's voucher (an open, or a voucher with a `deposit`) is verified once: the funding
// step checks it before it submits or awaits the funding, and admission takes that check instead of
// asking the signer again. Counted on-chain: the vouchers are signed through a contract wallet
// (ERC-1271), and every `isValidSignature` call the gate makes goes through a counting transport.
import assert from "node:assert/strict";
import hre from "hardhat";
import { type Address, createWalletClient, type Hex, http, type Transport } from "viem";
import { getTokenDomain } from "../../../sdk/src/authorization/getTokenDomain.js";
import { signOpenAuthorization } from "../../../sdk/src/authorization/signOpenAuthorization.js";
import { computeChannelId } from "../../../sdk/src/channel/computeChannelId.js";
import type { SessionPayload } from "../../../sdk/src/session/payload.js";
import { openChannel } from "../../../sdk/src/transactions/openChannel.js";
import { signVoucher } from "../../../sdk/src/voucher/signVoucher.js";
import type { LocalChain } from "../../../scripts/localChain.js";
import { credential, fetchOffer, pay, type Payer, randomBytes32, relayedAuthorizations, sellerChain, startMeteredGate } from "./helpers.js";

const PRICE = 1_000n;
const DEPOSIT = 100_000n;
/** `isValidSignature(bytes32,bytes)`. */
const IS_VALID_SIGNATURE = "0x1626ba7e";

/** An HTTP transport that counts the ERC-1271 `isValidSignature` calls sent through it. */
function erc1271CountingTransport(url: string): { transport: Transport; count: () => number } {
  let calls = 0;
  const transport: Transport = (parameters) => {
    const live = http(url)(parameters);
    const request = ((args: { method: string; params?: unknown }, options?: unknown) => {
      const [call] = (args.params ?? []) as [{ data?: string; input?: string }?];
      if (args.method === "eth_call" && (call?.data ?? call?.input ?? "").startsWith(IS_VALID_SIGNATURE)) calls++;
      return live.request(args as never, options as never);
    }) as typeof live.request;
    return { ...live, request };
  };
  return { transport, count: () => calls };
}

describe("server e2e: a funding credential's voucher is verified once", function () {
  this.timeout(120_000);
  const suite = sellerChain();
  let chain: LocalChain;
  let seller: Address;
  let payer: Payer;
  let wallet: Address;

  before(async function () {
    ({ chain, seller, payer } = suite);
    const artifact = await hre.artifacts.readArtifact("MockERC1271Wallet");
    const deployer = createWalletClient({ chain: chain.chain, transport: http(chain.rpcUrl), account: chain.account(0) });
    const hash = await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode as Hex, args: [chain.account(3).address] });
    wallet = (await chain.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
  });

  /** A voucher of the wallet (signed by its owner key, verified through ERC-1271). */
  const sign = (channelId: Hex, cumulativeAmount: bigint) => signVoucher({ account: chain.account(3), chainId: chain.chain.id, escrow: chain.escrow, channelId, cumulativeAmount });

  it("test_fundingVoucher_openWithHashAsksTheWalletOnce", async function () {
    const counter = erc1271CountingTransport(chain.rpcUrl);
    const { url, offer } = await startMeteredGate(suite, { price: PRICE, deposit: DEPOSIT, transport: counter.transport });
    const salt = randomBytes32();
    const { hash, channelId } = await openChannel({ client: payer.wallet, publicClient: chain.publicClient, escrow: chain.escrow, payee: seller, token: chain.token, deposit: DEPOSIT, salt, authorizedSigner: wallet });
    const payload: SessionPayload = { action: "open", type: "hash", channelId, hash, cumulativeAmount: PRICE, signature: await sign(channelId, PRICE), salt, authorizedSigner: wallet };
    const before = counter.count();
    const response = await pay(url, credential(offer.challenge, payload, payer.source));
    assert.equal(response.status, 200, await response.text());
    assert.equal(counter.count() - before, 1, "the open's voucher must be checked by the wallet exactly once");
  });

  it("test_fundingVoucher_relayedOpenInAVoucherDepositAsksTheWalletOnce", async function () {
    const counter = erc1271CountingTransport(chain.rpcUrl);
    const { url } = await startMeteredGate(suite, { price: PRICE, deposit: DEPOSIT, transport: counter.transport, feePayer: true });
    const offer = await fetchOffer(url);
    const salt = randomBytes32();
    const channelId = computeChannelId({ chainId: chain.chain.id, escrow: chain.escrow, payer: payer.address, payee: seller, token: chain.token, salt, authorizedSigner: wallet });
    const tokenDomain = await getTokenDomain({ client: chain.publicClient, token: chain.token });
    const validBefore = (await chain.publicClient.getBlock()).timestamp + 3_600n;
    const { signature, ...authorization } = await signOpenAuthorization({ account: payer.account, tokenDomain, escrow: chain.escrow, payee: seller, deposit: DEPOSIT, salt, authorizedSigner: wallet, validBefore });
    const payload: SessionPayload = {
      action: "voucher",
      channelId,
      cumulativeAmount: PRICE,
      signature: await sign(channelId, PRICE),
      deposit: { action: "open", type: "authorization", authorization, signature, salt, authorizedSigner: wallet },
    };
    const before = counter.count();
    const response = await pay(url, credential(offer.challenge, payload));
    assert.equal(response.status, 200, await response.text());
    assert.equal(counter.count() - before, 1, "the voucher riding on the open must be checked by the wallet exactly once");

  });

  it("test_fundingVoucher_relayedTopUpInAVoucherDepositAsksTheWalletOnce", async function () {
    const counter = erc1271CountingTransport(chain.rpcUrl);
    const { url, offer } = await startMeteredGate(suite, { price: PRICE, deposit: DEPOSIT, transport: counter.transport, feePayer: true });
    const salt = randomBytes32();
    const { hash, channelId } = await openChannel({ client: payer.wallet, publicClient: chain.publicClient, escrow: chain.escrow, payee: seller, token: chain.token, deposit: DEPOSIT, salt, authorizedSigner: wallet });
    const open: SessionPayload = { action: "open", type: "hash", channelId, hash, cumulativeAmount: PRICE, signature: await sign(channelId, PRICE), salt, authorizedSigner: wallet };
    const opened = await pay(url, credential(offer.challenge, open, payer.source));
    assert.equal(opened.status, 200, await opened.text());
    const topUp = await (await relayedAuthorizations(chain, seller)).topUp(payer, channelId, DEPOSIT);
    const payload: SessionPayload = {
      action: "voucher",
      channelId,
      cumulativeAmount: 2n * PRICE,
      signature: await sign(channelId, 2n * PRICE),
      deposit: { action: "topUp", type: "authorization", ...topUp },
    };
    const before = counter.count();
    const response = await pay(url, credential(offer.challenge, payload));
    assert.equal(response.status, 200, await response.text());
    assert.equal(counter.count() - before, 1, "the voucher riding on the top-up must be checked by the wallet exactly once");
  });
});
