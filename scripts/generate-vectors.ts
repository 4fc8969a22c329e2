// npx hardhat run scripts/generate-vectors.ts — writes test/vectors/escrow.json, the shared test vectors
// the SDK checks its channel ids, voucher digests and domain separators against.
//
// Every value is read from the escrow's own view functions. The escrow's runtime code is placed at fixed
// addresses with hardhat_setCode (OpenZeppelin's EIP712 recomputes its domain when address(this) differs
// from the deployment address), on networks with several chain ids, so the vectors do not depend on
// deployment nonces. test/escrow/vectors.test.ts re-reads every entry and fails on any difference.
import { mkdir, writeFile } from "node:fs/promises";
import { network } from "hardhat";
import type { Address, Hex } from "viem";
import { getAddress, keccak256, toHex, zeroAddress } from "viem";

const VECTOR_CHAIN_IDS = [31337, 8453, 84532] as const;

const VECTOR_ESCROWS: readonly Address[] = [
  "0x00000000000000000000000000000000000E5C20",
  "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  "0xC0FFEE254729296a45a3885639AC7E10F9d54979",
].map((address) => getAddress(address));

const PAYER_1 = getAddress("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
const PAYEE_1 = getAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
const PAYER_2 = getAddress("0x1111111111111111111111111111111111111111");
const PAYEE_2 = getAddress("0x2222222222222222222222222222222222222222");
const USDC_BASE = getAddress("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913");
const MOCK_TOKEN = getAddress("0x3333333333333333333333333333333333333333");
const SESSION_KEY = getAddress("0x90F79bf6EB2c4f870365E785982E1f101E93b906");

const CHANNEL_INPUTS: ReadonlyArray<{ payer: Address; payee: Address; token: Address; salt: Hex; authorizedSigner: Address }> = [
  { payer: PAYER_1, payee: PAYEE_1, token: USDC_BASE, salt: toHex(0n, { size: 32 }), authorizedSigner: zeroAddress },
  { payer: PAYER_1, payee: PAYEE_1, token: USDC_BASE, salt: toHex(1n, { size: 32 }), authorizedSigner: SESSION_KEY },
  { payer: PAYER_2, payee: PAYEE_2, token: MOCK_TOKEN, salt: keccak256(toHex("tollgate vector salt")), authorizedSigner: zeroAddress },
  { payer: PAYER_2, payee: PAYER_1, token: MOCK_TOKEN, salt: `0x${"ff".repeat(32)}`, authorizedSigner: PAYEE_2 },
];

const VECTOR_AMOUNTS: readonly bigint[] = [0n, 1n, 123n, 1_000_000n, 2n ** 96n - 1n, 2n ** 128n - 1n];

/** Fixed channel ids used for the voucher vectors, independent of the channel-id vectors. */
const VOUCHER_CHANNEL_IDS: readonly Hex[] = [
  toHex(0n, { size: 32 }),
  keccak256(toHex("tollgate vector channel")),
];

type EscrowVectors = {
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

const vectors: EscrowVectors = { vouchers: [], channelIds: [], domainSeparators: [] };

for (const chainId of VECTOR_CHAIN_IDS) {
  const { viem, networkHelpers } = await network.create({ override: { chainId } });
  const publicClient = await viem.getPublicClient();
  const deployed = await viem.deployContract("TollgateEscrow");
  const code = await publicClient.getCode({ address: deployed.address });
  if (code === undefined) throw new Error("escrow has no code");

  for (const escrowAddress of VECTOR_ESCROWS) {
    await networkHelpers.setCode(escrowAddress, code);
    const escrow = await viem.getContractAt("TollgateEscrow", escrowAddress);

    vectors.domainSeparators.push({ chainId, escrow: escrowAddress, domainSeparator: await escrow.read.domainSeparator() });

    for (const input of CHANNEL_INPUTS) {
      const channelId = await escrow.read.computeChannelId([
        input.payer,
        input.payee,
        input.token,
        input.salt,
        input.authorizedSigner,
      ]);
      vectors.channelIds.push({ chainId, escrow: escrowAddress, ...input, channelId });
    }

    const voucherIds = [...VOUCHER_CHANNEL_IDS, vectors.channelIds.at(-1)!.channelId];
    for (const channelId of voucherIds) {
      for (const amount of VECTOR_AMOUNTS) {
        vectors.vouchers.push({
          chainId,
          escrow: escrowAddress,
          channelId,
          cumulativeAmount: amount.toString(),
          digest: await escrow.read.getVoucherDigest([channelId, amount]),
        });
      }
    }
  }
}

await mkdir("test/vectors", { recursive: true });
await writeFile("test/vectors/escrow.json", JSON.stringify(vectors, null, 2) + "\n");
console.log(
  `wrote test/vectors/escrow.json: ${vectors.vouchers.length} vouchers, ${vectors.channelIds.length} channel ids, ` +
    `${vectors.domainSeparators.length} domain separators`,
);
