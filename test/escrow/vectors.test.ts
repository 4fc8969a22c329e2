// test/vectors/escrow.json is what the SDK is checked against. Every entry is re-read here from the
// escrow (its code placed at the same addresses, on networks with the same chain ids), so the file cannot
// drift from the contract; regenerate it with `npx hardhat run scripts/generate-vectors.ts`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { network } from "hardhat";
import type { Address, Hex } from "viem";
import { getAddress, hashDomain, zeroAddress } from "viem";
import { channelIdOf, voucherDigest, voucherDomain } from "./helpers.js";

type Vectors = {
  vouchers: Array<{ chainId: number; escrow: Address; channelId: Hex; cumulativeAmount: string; digest: Hex }>;
  channelIds: Array<{
    chainId: number;
    escrow: Address;
    payer: Address;
    payee: Address;
    token: Address;
    salt: Hex;
    authorizedSigner: Address;
    channelId: Hex;
  }>;
  domainSeparators: Array<{ chainId: number; escrow: Address; domainSeparator: Hex }>;
};

const vectors = JSON.parse(readFileSync(new URL("../vectors/escrow.json", import.meta.url), "utf8")) as Vectors;

const chainIds = [
  ...new Set([...vectors.vouchers, ...vectors.channelIds, ...vectors.domainSeparators].map((v) => v.chainId)),
].sort((a, b) => a - b);

// One network per chain id, each with the escrow's code at every vector address of that chain.
const escrowsByChain = new Map<number, Map<string, Awaited<ReturnType<typeof loadEscrows>>[number]>>();

async function loadEscrows(chainId: number) {
  const { viem, networkHelpers } = await network.create({ override: { chainId } });
  const publicClient = await viem.getPublicClient();
  assert.equal(await publicClient.getChainId(), chainId);
  const deployed = await viem.deployContract("TollgateEscrow");
  const code = await publicClient.getCode({ address: deployed.address });
  assert.ok(code !== undefined);
  const addresses = [
    ...new Set(
      [...vectors.vouchers, ...vectors.channelIds, ...vectors.domainSeparators]
        .filter((v) => v.chainId === chainId)
        .map((v) => getAddress(v.escrow)),
    ),
  ];
  const escrows = [];
  for (const address of addresses) {
    await networkHelpers.setCode(address, code);
    escrows.push(await viem.getContractAt("TollgateEscrow", address));
  }
  return escrows;
}

for (const chainId of chainIds) {
  const escrows = await loadEscrows(chainId);
  escrowsByChain.set(chainId, new Map(escrows.map((e) => [getAddress(e.address), e])));
}

function escrowAt(chainId: number, address: Address) {
  const escrow = escrowsByChain.get(chainId)?.get(getAddress(address));
  assert.ok(escrow !== undefined, `no escrow for chain ${chainId} at ${address}`);
  return escrow;
}

describe("test/vectors/escrow.json", () => {
  it("test_vectors_cover_required_variety", () => {
    const amounts = new Set(vectors.vouchers.map((v) => BigInt(v.cumulativeAmount)));
    for (const required of [0n, 1n, 2n ** 96n - 1n, 2n ** 128n - 1n]) assert.ok(amounts.has(required), `amount ${required}`);
    const signers = vectors.channelIds.map((v) => getAddress(v.authorizedSigner));
    assert.ok(signers.some((s) => s === zeroAddress));
    assert.ok(signers.some((s) => s !== zeroAddress));
    for (const list of [vectors.vouchers, vectors.channelIds, vectors.domainSeparators]) {
      assert.ok(new Set(list.map((v) => getAddress(v.escrow))).size >= 2, "several escrows");
    }
    assert.ok(chainIds.includes(31337));
  });

  it("test_vectors_domainSeparators_match_contract", async () => {
    assert.ok(vectors.domainSeparators.length > 0);
    for (const v of vectors.domainSeparators) {
      const escrow = escrowAt(v.chainId, v.escrow);
      assert.equal(await escrow.read.domainSeparator(), v.domainSeparator, `${v.chainId} ${v.escrow}`);
      const [, name, version, chainId, verifyingContract] = await escrow.read.eip712Domain();
      assert.equal(chainId, BigInt(v.chainId));
      assert.equal(getAddress(verifyingContract), getAddress(v.escrow));
      assert.equal(
        hashDomain({
          domain: { name, version, chainId: BigInt(v.chainId), verifyingContract: v.escrow },
          types: {
            EIP712Domain: [
              { name: "name", type: "string" },
              { name: "version", type: "string" },
              { name: "chainId", type: "uint256" },
              { name: "verifyingContract", type: "address" },
            ],
          },
        }),
        v.domainSeparator,
      );
      assert.deepEqual(voucherDomain(v.escrow, v.chainId).name, name);
    }
  });

  it("test_vectors_channelIds_match_contract", async () => {
    assert.ok(vectors.channelIds.length > 0);
    for (const v of vectors.channelIds) {
      const escrow = escrowAt(v.chainId, v.escrow);
      const onChain = await escrow.read.computeChannelId([v.payer, v.payee, v.token, v.salt, v.authorizedSigner]);
      assert.equal(onChain, v.channelId, JSON.stringify(v));
      assert.equal(channelIdOf(v.payer, v.payee, v.token, v.salt, v.authorizedSigner, v.escrow, v.chainId), v.channelId);
    }
  });

  it("test_vectors_voucher_digests_match_contract", async () => {
    assert.ok(vectors.vouchers.length > 0);
    for (const v of vectors.vouchers) {
      const escrow = escrowAt(v.chainId, v.escrow);
      const amount = BigInt(v.cumulativeAmount);
      assert.equal(v.cumulativeAmount, amount.toString(), "decimal string");
      assert.equal(await escrow.read.getVoucherDigest([v.channelId, amount]), v.digest, JSON.stringify(v));
      assert.equal(voucherDigest(v.escrow, v.channelId, amount, v.chainId), v.digest);
    }
  });
});
