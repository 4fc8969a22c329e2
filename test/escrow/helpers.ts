// Shared set-up and signing helpers for the escrow suite. Loaded by mocha like every file under test/,
// so it has no top-level side effects: each test file creates its own network connection.
import assert from "node:assert/strict";
import type { Address, Hash, Hex, LocalAccount } from "viem";
import type { HDAccount } from "viem/accounts";
import {
  concat,
  encodeAbiParameters,
  getAddress,
  hashTypedData,
  keccak256,
  numberToHex,
  parseAbiParameters,
  parseEventLogs,
  size,
  slice,
  toHex,
  zeroAddress,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import type { HardhatViemHelpers } from "@nomicfoundation/hardhat-viem/types";
import type { ContractReturnType } from "@nomicfoundation/hardhat-viem/types";

export type Escrow = ContractReturnType<"TollgateEscrow">;
export type Stablecoin = ContractReturnType<"MockStablecoin">;

export const CHAIN_ID = 31337;
export const USDC = 1_000_000n;
export const MAX_DEPOSIT = 2n ** 95n - 1n;
export const UINT128_MAX = 2n ** 128n - 1n;
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const ZERO = zeroAddress;
export const DOMAIN_NAME = "EVM Payment Channel";
export const DOMAIN_VERSION = "1";

export const VOUCHER_TYPES = {
  Voucher: [
    { name: "channelId", type: "bytes32" },
    { name: "cumulativeAmount", type: "uint128" },
  ],
} as const;

const PAYEE_AUTHORIZATION_FIELDS = [
  { name: "channelId", type: "bytes32" },
  { name: "cumulativeAmount", type: "uint128" },
  { name: "nonce", type: "uint256" },
  { name: "deadline", type: "uint256" },
] as const;

export const SETTLE_AUTHORIZATION_TYPES = { SettleAuthorization: PAYEE_AUTHORIZATION_FIELDS } as const;
export const CLOSE_AUTHORIZATION_TYPES = { CloseAuthorization: PAYEE_AUTHORIZATION_FIELDS } as const;

export const RECEIVE_WITH_AUTHORIZATION_TYPES = {
  ReceiveWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

// Hardhat's default accounts come from this mnemonic; deriving them locally lets the tests sign raw
// digests and hand-craft malformed signatures for the same addresses the wallet clients send from.
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
const localAccounts = new Map<string, HDAccount>();
for (let addressIndex = 0; addressIndex < 10; addressIndex++) {
  const account = mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex });
  localAccounts.set(account.address.toLowerCase(), account);
}

/** The local signer behind one of Hardhat's default accounts. */
export function keyOf(address: Address): HDAccount {
  const account = localAccounts.get(address.toLowerCase());
  assert.ok(account !== undefined, `no local key for ${address}`);
  return account;
}

let saltCounter = 0n;
/** A fresh salt, distinct across the whole run. */
export function nextSalt(): Hex {
  saltCounter += 1n;
  return keccak256(encodeAbiParameters(parseAbiParameters("string, uint256"), ["tollgate-test-salt", saltCounter]));
}

export function voucherDomain(escrow: Address, chainId: number = CHAIN_ID) {
  return { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract: escrow } as const;
}

export function voucherDigest(escrow: Address, channelId: Hex, cumulativeAmount: bigint, chainId: number = CHAIN_ID) {
  return hashTypedData({
    domain: voucherDomain(escrow, chainId),
    types: VOUCHER_TYPES,
    primaryType: "Voucher",
    message: { channelId, cumulativeAmount },
  });
}

export function signVoucher(
  signer: LocalAccount,
  escrow: Address,
  channelId: Hex,
  cumulativeAmount: bigint,
  chainId: number = CHAIN_ID,
): Promise<Hex> {
  return signer.signTypedData({
    domain: voucherDomain(escrow, chainId),
    types: VOUCHER_TYPES,
    primaryType: "Voucher",
    message: { channelId, cumulativeAmount },
  });
}

export type PayeeAuthorizationKind = "settle" | "close";

export function signPayeeAuthorization(
  signer: LocalAccount,
  kind: PayeeAuthorizationKind,
  escrow: Address,
  message: { channelId: Hex; cumulativeAmount: bigint; nonce: bigint; deadline: bigint },
  chainId: number = CHAIN_ID,
): Promise<Hex> {
  const domain = voucherDomain(escrow, chainId);
  return kind === "settle"
    ? signer.signTypedData({ domain, types: SETTLE_AUTHORIZATION_TYPES, primaryType: "SettleAuthorization", message })
    : signer.signTypedData({ domain, types: CLOSE_AUTHORIZATION_TYPES, primaryType: "CloseAuthorization", message });
}

/** keccak256(abi.encode(payer, payee, token, salt, authorizedSigner, escrow, chainId)), computed here. */
export function channelIdOf(
  payer: Address,
  payee: Address,
  token: Address,
  salt: Hex,
  authorizedSigner: Address,
  escrow: Address,
  chainId: number = CHAIN_ID,
): Hex {
  return keccak256(
    encodeAbiParameters(parseAbiParameters("address, address, address, bytes32, address, address, uint256"), [
      payer,
      payee,
      token,
      salt,
      authorizedSigner,
      escrow,
      BigInt(chainId),
    ]),
  );
}

/** The EIP-3009 nonce openWithAuthorization requires. */
export function openNonce(from: Address, payee: Address, token: Address, salt: Hex, authorizedSigner: Address): Hex {
  return keccak256(
    encodeAbiParameters(parseAbiParameters("address, address, address, bytes32, address"), [
      from,
      payee,
      token,
      salt,
      authorizedSigner,
    ]),
  );
}

/** The EIP-3009 nonce topUpWithAuthorization requires. */
export function topUpNonce(channelId: Hex, additionalDeposit: bigint, from: Address, topUpSalt: Hex): Hex {
  return keccak256(
    encodeAbiParameters(parseAbiParameters("bytes32, uint128, address, bytes32"), [
      channelId,
      additionalDeposit,
      from,
      topUpSalt,
    ]),
  );
}

/** Signs an EIP-3009 ReceiveWithAuthorization under the token's own EIP-712 domain (read via ERC-5267). */
export async function signReceiveAuthorization(
  signer: LocalAccount,
  token: { address: Address; read: { eip712Domain: () => Promise<readonly [Hex, string, string, bigint, Address, Hex, readonly bigint[]]> } },
  message: { from: Address; to: Address; value: bigint; validAfter: bigint; validBefore: bigint; nonce: Hex },
): Promise<Hex> {
  const [, name, version, chainId, verifyingContract] = await token.read.eip712Domain();
  assert.equal(getAddress(verifyingContract), getAddress(token.address));
  return signer.signTypedData({
    domain: { name, version, chainId: Number(chainId), verifyingContract },
    types: RECEIVE_WITH_AUTHORIZATION_TYPES,
    primaryType: "ReceiveWithAuthorization",
    message,
  });
}

/** Splits a 65-byte r || s || v signature. */
export function splitSignature(signature: Hex): { r: Hex; s: bigint; v: number } {
  assert.equal(size(signature), 65);
  return {
    r: slice(signature, 0, 32),
    s: BigInt(slice(signature, 32, 64)),
    v: Number(BigInt(slice(signature, 64, 65))),
  };
}

export function joinSignature(r: Hex, s: bigint, v: number): Hex {
  return concat([r, numberToHex(s, { size: 32 }), numberToHex(v, { size: 1 })]);
}

/** The malleable twin (r, n - s, 55 - v) of a canonical signature. */
export function highSTwin(signature: Hex): Hex {
  const { r, s, v } = splitSignature(signature);
  return joinSignature(r, SECP256K1_N - s, 55 - v);
}

/** The same signature with a different v byte. */
export function withV(signature: Hex, v: number): Hex {
  const { r, s } = splitSignature(signature);
  return joinSignature(r, s, v);
}

/** Calls the ecrecover precompile as the escrow does; returns address(0) when it yields nothing. */
export async function ecrecoverPrecompile(
  publicClient: Awaited<ReturnType<HardhatViemHelpers["getPublicClient"]>>,
  digest: Hex,
  signature: Hex,
): Promise<Address> {
  const { r, s, v } = splitSignature(signature);
  const { data } = await publicClient.call({
    to: "0x0000000000000000000000000000000000000001",
    data: concat([digest, numberToHex(v, { size: 32 }), r, numberToHex(s, { size: 32 })]),
  });
  if (data === undefined || size(data) !== 32) return ZERO;
  return getAddress(slice(data, 12, 32));
}

export const ERC20_TRANSFER_EVENT_ABI = [
  {
    type: "event",
    name: "Transfer",
    inputs: [
      { name: "from", type: "address", indexed: true },
      { name: "to", type: "address", indexed: true },
      { name: "value", type: "uint256", indexed: false },
    ],
  },
] as const;

/** The ERC-20 Transfer logs `token` emitted in transaction `hash`. */
export async function transfersIn(
  publicClient: Awaited<ReturnType<HardhatViemHelpers["getPublicClient"]>>,
  token: Address,
  hash: Hash,
) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, "success");
  return parseEventLogs({
    abi: ERC20_TRANSFER_EVENT_ABI,
    logs: receipt.logs.filter((log) => log.address.toLowerCase() === token.toLowerCase()),
  }).map((log) => ({ from: getAddress(log.args.from), to: getAddress(log.args.to), value: log.args.value }));
}

type BalanceReader = { read: { balanceOf: (args: readonly [Address]) => Promise<bigint> } };

/** Runs `action` and asserts each address's token balance changed by exactly the given amount. */
export async function expectTokenDeltas(
  token: BalanceReader,
  changes: ReadonlyArray<readonly [Address, bigint]>,
  action: () => Promise<unknown>,
): Promise<void> {
  const before = await Promise.all(changes.map(([address]) => token.read.balanceOf([address])));
  await action();
  const after = await Promise.all(changes.map(([address]) => token.read.balanceOf([address])));
  const actual = changes.map(([address], i) => [address, after[i]! - before[i]!] as const);
  assert.deepEqual(
    actual.map(([address, delta]) => `${getAddress(address)}: ${delta}`),
    changes.map(([address, delta]) => `${getAddress(address)}: ${delta}`),
  );
}

/** The channel as getChannel returns it, for deep comparisons. */
export type ChannelView = {
  payer: Address;
  payee: Address;
  token: Address;
  authorizedSigner: Address;
  deposit: bigint;
  settled: bigint;
  closeRequestedAt: bigint;
  finalized: boolean;
};

export function normalizeChannel(channel: ChannelView): ChannelView {
  return {
    payer: getAddress(channel.payer),
    payee: getAddress(channel.payee),
    token: getAddress(channel.token),
    authorizedSigner: getAddress(channel.authorizedSigner),
    deposit: channel.deposit,
    settled: channel.settled,
    closeRequestedAt: BigInt(channel.closeRequestedAt),
    finalized: channel.finalized,
  };
}

export function bytes32(n: bigint | number): Hex {
  return toHex(BigInt(n), { size: 32 });
}

/**
 * The common world: an escrow, a 6-decimal EIP-3009 stablecoin, and funded, approving payers. Call it
 * through `networkHelpers.loadFixture(() => deployEscrowWorld(viem))` wrapped in a stable function.
 */
export async function deployEscrowWorld(viem: HardhatViemHelpers) {
  const publicClient = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  const [deployer, payer, payee, other, relayer, payer2, payee2, sessionKeyHolder] = wallets;
  assert.ok(deployer && payer && payee && other && relayer && payer2 && payee2 && sessionKeyHolder);
  const token = await viem.deployContract("MockStablecoin", ["Mock USD Coin", "USDC"]);
  const escrow = await viem.deployContract("TollgateEscrow");
  for (const wallet of [payer, payer2]) {
    await token.write.mint([wallet.account.address, 1_000_000n * USDC]);
    await token.write.approve([escrow.address, 2n ** 256n - 1n], { account: wallet.account });
  }

  /** Opens a channel with `open` and returns its id and parameters. */
  async function openChannel(
    options: {
      payer?: typeof payer;
      payee?: Address;
      token?: Address;
      deposit?: bigint;
      salt?: Hex;
      authorizedSigner?: Address;
    } = {},
  ) {
    const from = options.payer ?? payer!;
    const params = {
      payer: getAddress(from.account.address),
      payee: getAddress(options.payee ?? payee!.account.address),
      token: getAddress(options.token ?? token.address),
      deposit: options.deposit ?? 100n * USDC,
      salt: options.salt ?? nextSalt(),
      authorizedSigner: getAddress(options.authorizedSigner ?? ZERO),
    };
    const hash = await escrow.write.open(
      [params.payee, params.token, params.deposit, params.salt, params.authorizedSigner],
      { account: from.account },
    );
    const channelId = channelIdOf(
      params.payer,
      params.payee,
      params.token,
      params.salt,
      params.authorizedSigner,
      escrow.address,
    );
    return { ...params, channelId, hash };
  }

  /** The payer's (or the given signer's) voucher for this escrow. */
  function voucher(channelId: Hex, cumulativeAmount: bigint, signer: Address = payer!.account.address) {
    return signVoucher(keyOf(signer), escrow.address, channelId, cumulativeAmount);
  }

  return {
    publicClient,
    deployer,
    payer,
    payee,
    other,
    relayer,
    payer2,
    payee2,
    sessionKeyHolder,
    token,
    escrow,
    openChannel,
    voucher,
  };
}

export type EscrowWorld = Awaited<ReturnType<typeof deployEscrowWorld>>;

/**
 * Asserts the exact sequence of ChannelSettled(channelId, settled) events the escrow emitted in `hash`.
 * The event carries no payout amount (the interface leaves it out for gas; it is the difference from the
 * previous `settled`), so callers check payouts through the token's Transfer logs and balances.
 */
export async function expectChannelSettled(
  publicClient: Awaited<ReturnType<HardhatViemHelpers["getPublicClient"]>>,
  escrow: Escrow,
  hash: Hash,
  expected: ReadonlyArray<readonly [Hex, bigint]>,
): Promise<void> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, "success");
  const logs = parseEventLogs({
    abi: escrow.abi,
    eventName: "ChannelSettled",
    logs: receipt.logs.filter((log) => log.address.toLowerCase() === escrow.address.toLowerCase()),
  });
  assert.deepEqual(
    logs.map((log) => Object.keys(log.args)),
    expected.map(() => ["channelId", "settled"]),
  );
  assert.deepEqual(
    logs.map((log) => [log.args.channelId, log.args.settled]),
    expected.map(([id, settled]) => [id, settled]),
  );
}
