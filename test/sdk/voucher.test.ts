import assert from "node:assert/strict";
import { secp256k1 } from "@noble/curves/secp256k1";
import { network } from "hardhat";
import {
  concatHex,
  createPublicClient,
  hashTypedData,
  type Hex,
  http,
  maxUint128,
  numberToHex,
  recoverAddress as viemRecoverAddress,
  recoverTypedDataAddress,
  parseSignature,
  serializeCompactSignature,
  serializeSignature,
  signatureToCompactSignature,
  sliceHex,
  zeroAddress,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  getSecp256k1Backend,
  getVoucherDigest,
  getVoucherDomain,
  getVoucherDomainSeparator,
  getVoucherSigner,
  getVoucherTypedData,
  InvalidValueError,
  openChannel,
  recoverVoucherSigner,
  RpcError,
  signVoucher,
  tollgateEscrowAbi,
  verifyVoucher,
} from "../../sdk/src/index.js";
import { deployTollgate, fundedAccount, pseudoRandomHex, testAccount, USDC } from "./fixtures.js";

const { viem, networkHelpers, provider } = await network.create();

const N = secp256k1.CURVE.n;
const HALF_N = N / 2n;
const BACKENDS = ["native", "js"] as const;

function word(value: bigint): Hex {
  return numberToHex(value, { size: 32 });
}

/** Pseudo-random voucher fields and signer key; index 0..3 pin the amount's extremes. */
function randomVoucher(index: number) {
  const amounts = [0n, 1n, maxUint128, maxUint128 - 1n];
  const cumulativeAmount = amounts[index] ?? BigInt(pseudoRandomHex("amount", index, 16)) >> BigInt(index % 128);
  return {
    account: privateKeyToAccount(pseudoRandomHex("key", index)),
    voucher: {
      chainId: 1 + (index % 3) * 8452,
      escrow: sliceHex(pseudoRandomHex("escrow", index % 5), 0, 20),
      channelId: pseudoRandomHex("channel", index),
      cumulativeAmount,
    },
  };
}

describe("vouchers", () => {
  it("loads the native secp256k1 binding here, so the fast path is what the tests measure", () => {
    assert.equal(getSecp256k1Backend(), "native");
  });

  describe("hashing", () => {
    let fixture: Awaited<ReturnType<typeof deployTollgate>>;
    before(async () => {
      fixture = await deployTollgate(viem);
    });

    it("domain separator and digests equal the contract's", async () => {
      const { escrow, chainId } = fixture;
      assert.equal(getVoucherDomainSeparator({ chainId, escrow: escrow.address }), await escrow.read.domainSeparator());
      for (let index = 0; index < 24; index++) {
        const { voucher } = randomVoucher(index);
        const { channelId, cumulativeAmount } = voucher;
        assert.equal(
          getVoucherDigest({ chainId, escrow: escrow.address, channelId, cumulativeAmount }),
          await escrow.read.getVoucherDigest([channelId, cumulativeAmount]),
        );
      }
    });

    it("the byte-level digest equals viem's EIP-712 hashing for every chain and escrow (cache keyed right)", () => {
      for (let index = 0; index < 200; index++) {
        const { voucher } = randomVoucher(index);
        assert.equal(getVoucherDigest(voucher), hashTypedData(getVoucherTypedData(voucher)), `voucher ${index}`);
      }
    });

    it("treats an escrow address the same in any letter case", () => {
      const { voucher } = randomVoucher(7);
      assert.equal(getVoucherDigest({ ...voucher, escrow: voucher.escrow.toUpperCase().replace("0X", "0x") as Hex }), getVoucherDigest(voucher));
    });

    it("rejects malformed voucher fields with InvalidValueError", () => {
      const { voucher } = randomVoucher(1);
      assert.throws(() => getVoucherDigest({ ...voucher, cumulativeAmount: maxUint128 + 1n }), InvalidValueError);
      assert.throws(() => getVoucherDigest({ ...voucher, cumulativeAmount: -1n }), InvalidValueError);
      assert.throws(() => getVoucherDigest({ ...voucher, channelId: "0x1234" }), InvalidValueError);
      assert.throws(() => getVoucherDigest({ ...voucher, chainId: 0 }), InvalidValueError);
      assert.throws(() => getVoucherDigest({ ...voucher, escrow: "0x1234" }), InvalidValueError);
      assert.throws(() => getVoucherDomain({ chainId: 1.5, escrow: voucher.escrow }), InvalidValueError);
    });
  });

  describe("signing and recovery", () => {
    it("signs 65-byte low-s signatures with v 27/28 that both backends and viem recover to the signer", async () => {
      for (let index = 0; index < 300; index++) {
        const { account, voucher } = randomVoucher(index);
        const signature = await signVoucher({ account, ...voucher });
        assert.match(signature, /^0x[0-9a-f]{128}(1b|1c)$/);
        assert.ok(BigInt(sliceHex(signature, 32, 64)) <= HALF_N);
        for (const secp256k1 of BACKENDS) {
          assert.equal(recoverVoucherSigner({ ...voucher, signature, secp256k1 }), account.address);
          assert.equal(await verifyVoucher({ ...voucher, signature, signer: account.address, secp256k1 }), true);
        }
        assert.equal(await recoverTypedDataAddress({ ...getVoucherTypedData(voucher), signature }), account.address);
      }
    });

    it("both backends give identical answers on corrupted signatures, and none verifies", async () => {
      for (let index = 0; index < 300; index++) {
        const { account, voucher } = randomVoucher(index);
        const bytes = Buffer.from((await signVoucher({ account, ...voucher })).slice(2), "hex");
        const noise = Buffer.from(pseudoRandomHex("noise", index, 2).slice(2), "hex");
        const position = (noise[0] as number) % 65;
        bytes[position] = (bytes[position] as number) ^ ((noise[1] as number) | 1);
        const signature = `0x${bytes.toString("hex")}` as Hex;
        const native = recoverVoucherSigner({ ...voucher, signature, secp256k1: "native" });
        assert.equal(recoverVoucherSigner({ ...voucher, signature, secp256k1: "js" }), native, `corruption ${index}`);
        assert.notEqual(native, account.address);
        for (const secp256k1 of BACKENDS) {
          assert.equal(await verifyVoucher({ ...voucher, signature, signer: account.address, secp256k1 }), false);
        }
      }
    });

    it("remembers a signer's key without trusting other keys for that signer", async () => {
      const { account, voucher } = randomVoucher(400);
      const signature = await signVoucher({ account, ...voucher });
      const impostor = await signVoucher({ account: testAccount("impostor"), ...voucher });
      for (const secp256k1 of BACKENDS) {
        assert.equal(await verifyVoucher({ ...voucher, signature, signer: account.address, secp256k1 }), true);
        assert.equal(await verifyVoucher({ ...voucher, signature: impostor, signer: account.address, secp256k1 }), false);
        assert.equal(await verifyVoucher({ ...voucher, signature, signer: account.address.toLowerCase() as Hex, secp256k1 }), true);
      }
      await assert.rejects(verifyVoucher({ ...voucher, signature, signer: "0x1234" }), InvalidValueError);
    });

    it("puts the low-s boundary exactly at n/2, like the escrow's MAX_S", async () => {
      const { voucher } = randomVoucher(3);
      const hash = getVoucherDigest(voucher);
      // An r that is the x coordinate of a curve point, so that recovery can succeed at all.
      let r = BigInt(pseudoRandomHex("r", 0)) % N;
      while (!isCurveX(r)) r++;
      for (const s of [HALF_N, HALF_N + 1n]) {
        const signature = concatHex([word(r), word(s), "0x1b"]);
        // viem recovers regardless of s: the signer such a signature would have if s were allowed.
        const lenient = await viemRecoverAddress({ hash, signature });
        for (const secp256k1 of BACKENDS) {
          assert.equal(recoverVoucherSigner({ ...voucher, signature, secp256k1 }), s === HALF_N ? lenient : null, `s = ${s}`);
        }
      }
    });
  });

  describe("judged by the escrow", () => {
    const signerAccount = testAccount("voucher signer");
    let escrowAddress: Hex;
    let channelId: Hex;
    let chainId: number;
    let payeeAddress: Hex;
    let publicClient: Awaited<ReturnType<typeof deployTollgate>>["publicClient"];

    before(async () => {
      const fixture = await deployTollgate(viem);
      ({ publicClient, chainId } = fixture);
      escrowAddress = fixture.escrow.address;
      const payer = await fundedAccount({ label: "payer", provider, chain: publicClient.chain, networkHelpers });
      payeeAddress = testAccount("payee").address;
      await fixture.token.write.mint([payer.account.address, 100n * USDC]);
      ({ channelId } = await openChannel({
        client: payer.client,
        escrow: escrowAddress,
        payee: payeeAddress,
        token: fixture.token.address,
        deposit: 10n * USDC,
        salt: pseudoRandomHex("salt", 0),
        authorizedSigner: signerAccount.address,
      }));
    });

    /** Whether the escrow's `settle` accepts the signature (simulated as the payee). */
    async function escrowAccepts(cumulativeAmount: bigint, signature: Hex): Promise<boolean> {
      try {
        await publicClient.simulateContract({
          account: payeeAddress,
          address: escrowAddress,
          abi: tollgateEscrowAbi,
          functionName: "settle",
          args: [channelId, cumulativeAmount, signature],
        });
        return true;
      } catch (error) {
        assert.match(String(error), /InvalidSignature/);
        return false;
      }
    }

    it("accepts and rejects exactly the signatures the escrow does", async () => {
      const cumulativeAmount = 1_234_567n;
      const voucher = { chainId, escrow: escrowAddress, channelId, cumulativeAmount };
      const valid = await signVoucher({ account: signerAccount, ...voucher });
      const { r, s, yParity } = parseSignature(valid);
      const v = BigInt(27 + yParity);
      const flippedV = v === 27n ? 28n : 27n;
      let offCurveR = 1n;
      while (isCurveX(offCurveR)) offCurveR++;
      const cases: Record<string, Hex> = {
        valid,
        "high-s twin": serializeSignature({ r, s: word(N - BigInt(s)), v: flippedV }),
        "v flipped": serializeSignature({ r, s, v: flippedV }),
        "v = 0": concatHex([r, s, "0x00"]),
        "v = 1": concatHex([r, s, "0x01"]),
        "v = 26": concatHex([r, s, "0x1a"]),
        "v = 29": concatHex([r, s, "0x1d"]),
        "64-byte compact (EIP-2098)": serializeCompactSignature(signatureToCompactSignature(parseSignature(valid))),
        "66 bytes": concatHex([valid, "0x00"]),
        empty: "0x",
        "r = 0": concatHex([word(0n), s, numberToHex(v, { size: 1 })]),
        "s = 0": concatHex([r, word(0n), numberToHex(v, { size: 1 })]),
        "r = n": concatHex([word(N), s, numberToHex(v, { size: 1 })]),
        "r = 2^256 - 1": concatHex([word(2n ** 256n - 1n), s, numberToHex(v, { size: 1 })]),
        "s = n": concatHex([r, word(N), numberToHex(v, { size: 1 })]),
        "r off the curve": concatHex([word(offCurveR), s, numberToHex(v, { size: 1 })]),
      };
      for (const [name, signature] of Object.entries(cases)) {
        const accepted = await escrowAccepts(cumulativeAmount, signature);
        assert.equal(accepted, name === "valid", `${name}: escrow`);
        for (const secp256k1 of BACKENDS) {
          assert.equal(await verifyVoucher({ ...voucher, signature, signer: signerAccount.address, secp256k1 }), accepted, `${name}: ${secp256k1}`);
          assert.equal(
            await verifyVoucher({ ...voucher, signature, signer: signerAccount.address, secp256k1, client: publicClient }),
            accepted,
            `${name}: ${secp256k1} with client`,
          );
        }
      }
      // viem accepts the high-s twin; the escrow and the SDK do not.
      assert.equal(await recoverTypedDataAddress({ ...getVoucherTypedData(voucher), signature: cases["high-s twin"]! }), signerAccount.address);
    });

    it("checks the channel's expected signer: authorizedSigner, else the payer", async () => {
      const channel = await publicClient.readContract({ address: escrowAddress, abi: tollgateEscrowAbi, functionName: "getChannel", args: [channelId] });
      assert.equal(getVoucherSigner({ channel }), signerAccount.address);
      assert.equal(getVoucherSigner({ channel: { ...channel, authorizedSigner: zeroAddress } }), channel.payer);
      const voucher = { chainId, escrow: escrowAddress, channelId, cumulativeAmount: 5n };
      // A voucher signed by the payer is worthless once a signer is delegated.
      const byPayerKey = await signVoucher({ account: testAccount("payer"), ...voucher });
      assert.equal(await escrowAccepts(5n, byPayerKey), false);
      assert.equal(await verifyVoucher({ ...voucher, signature: byPayerKey, signer: getVoucherSigner({ channel }) }), false);
    });
  });

  describe("ERC-1271 contract-wallet signers", () => {
    it("verifies through isValidSignature when given a client, as the escrow does", async () => {
      const { publicClient, escrow, token, chainId } = await deployTollgate(viem);
      const [ownerClient] = await viem.getWalletClients();
      const walletOwner = ownerClient!.account.address;
      const wallet = await viem.deployContract("MockERC1271Wallet", [walletOwner]);
      const payer = await fundedAccount({ label: "payer 1271", provider, chain: publicClient.chain, networkHelpers });
      const payee = testAccount("payee 1271").address;
      await token.write.mint([payer.account.address, 10n * USDC]);
      const { channelId } = await openChannel({
        client: payer.client,
        escrow: escrow.address,
        payee,
        token: token.address,
        deposit: 10n * USDC,
        salt: pseudoRandomHex("salt", 1271),
        authorizedSigner: wallet.address,
      });
      const voucher = { chainId, escrow: escrow.address, channelId, cumulativeAmount: 77n };
      // The wallet accepts signatures by its owner: sign with the owner's (hardhat) key through the node.
      const signature = await ownerClient!.signTypedData(getVoucherTypedData(voucher));
      const settle = () =>
        publicClient.simulateContract({ account: payee, address: escrow.address, abi: tollgateEscrowAbi, functionName: "settle", args: [channelId, 77n, signature] });

      await settle();
      assert.equal(await verifyVoucher({ ...voucher, signature, signer: wallet.address, client: publicClient }), true);
      assert.equal(await verifyVoucher({ ...voucher, signature, signer: wallet.address }), false, "no client, no ERC-1271");
      const otherSignature = await signVoucher({ account: testAccount("not the owner"), ...voucher });
      assert.equal(await verifyVoucher({ ...voucher, signature: otherSignature, signer: wallet.address, client: publicClient }), false);

      // A key rotation: the wallet stops accepting, and so do the escrow and the SDK.
      await wallet.write.setAcceptsSignatures([false]);
      await assert.rejects(settle(), /InvalidSignature/);
      assert.equal(await verifyVoucher({ ...voucher, signature, signer: wallet.address, client: publicClient }), false);
    });

    it("answers false for an EOA signer, and throws RpcError when the node cannot be reached", async () => {
      const { voucher } = randomVoucher(11);
      const account = testAccount("eoa");
      const signature = await signVoucher({ account: testAccount("someone else"), ...voucher });
      const publicClient = await viem.getPublicClient();
      assert.equal(await verifyVoucher({ ...voucher, signature, signer: account.address, client: publicClient }), false);

      const unreachable = createPublicClient({ transport: http("http://127.0.0.1:9", { retryCount: 0, timeout: 2_000 }) });
      await assert.rejects(verifyVoucher({ ...voucher, signature, signer: account.address, client: unreachable }), RpcError);
      // A valid EOA signature needs no RPC at all, even with an unreachable client.
      const own = await signVoucher({ account, ...voucher });
      assert.equal(await verifyVoucher({ ...voucher, signature: own, signer: account.address, client: unreachable }), true);
    });
  });
});

function isCurveX(x: bigint): boolean {
  try {
    secp256k1.ProjectivePoint.fromHex(`02${x.toString(16).padStart(64, "0")}`);
    return true;
  } catch {
    return false;
  }
}
