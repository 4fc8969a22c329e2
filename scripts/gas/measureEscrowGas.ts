// The escrow's gas flow, one sequence for every harness (Hardhat's EDR for the snapshot test and
// bench/results/gas.json; anvil for bench/results/gas-anvil.json), so the two tables differ only by the chain.
//
// Set-up, as in the reference measurements: a plain 6-decimal ERC-20; payer, payee and escrow already
// hold some of it; the payer approves exactly what each call pulls, as the SDK does. Each figure is the
// transaction's `gasUsed` (21,000 base and calldata included).
import type { Abi, Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { encodeAbiParameters, keccak256, parseAbiParameters, zeroAddress } from "viem";

export const GAS_TARGETS: Record<string, number> = {
  open: 112_000,
  topUp: 50_000,
  settle: 56_000,
  close: 63_000,
  requestClose: 31_000,
  withdraw: 46_000,
  "settleBatch (10 channels)": 215_000,
};

export const BATCH_SIZES = [1, 10, 100] as const;

const USDC = 1_000_000n;

export type GasReport = Record<string, bigint>;

export type DeployedContract = { address: Address; abi: Abi };

export type MeasureEscrowGasParameters = {
  publicClient: PublicClient;
  payer: WalletClient<Transport, Chain, Account>;
  payee: WalletClient<Transport, Chain, Account>;
  escrow: DeployedContract;
  token: DeployedContract;
  /** Gives `to` tokens: each harness's token has its own way (a mock's mint, a plain ERC-20's transfer). */
  fund(parameters: { to: Address; amount: bigint }): Promise<void>;
  /** Moves the chain's clock forward and mines a block. */
  increaseTime(seconds: number): Promise<void>;
};

export type MeasureEscrowGasReturnType = GasReport;

export async function measureEscrowGas({
  publicClient,
  payer,
  payee,
  escrow,
  token,
  fund,
  increaseTime,
}: MeasureEscrowGasParameters): Promise<MeasureEscrowGasReturnType> {
  const report: GasReport = {};
  let saltCounter = 0n;
  const nextSalt = (): Hex => keccak256(encodeAbiParameters(parseAbiParameters("uint256"), [++saltCounter]));

  const gasOf = async (hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    // A reverted call also uses gas: without this check its figure would read as the operation's.
    if (receipt.status !== "success") throw new Error(`gas flow transaction ${hash} reverted`);
    return receipt.gasUsed;
  };
  const write = (as: typeof payer, contract: DeployedContract, functionName: string, args: readonly unknown[]) =>
    as.writeContract({ address: contract.address, abi: contract.abi, functionName, args, account: as.account, chain: as.chain });

  await fund({ to: payer.account.address, amount: 1_000_000n * USDC });
  await fund({ to: payee.account.address, amount: USDC });

  const approve = async (amount: bigint) => gasOf(await write(payer, token, "approve", [escrow.address, amount]));
  const open = async (deposit: bigint) => {
    await approve(deposit);
    const salt = nextSalt();
    const channel = [payer.account.address, payee.account.address, token.address, salt, zeroAddress] as const;
    const gas = await gasOf(await write(payer, escrow, "open", [payee.account.address, token.address, deposit, salt, zeroAddress]));
    const channelId = (await publicClient.readContract({ ...escrow, functionName: "computeChannelId", args: channel })) as Hex;
    return { gas, channelId };
  };
  const chainId = await publicClient.getChainId();
  const sign = (channelId: Hex, cumulativeAmount: bigint) =>
    payer.signTypedData({
      account: payer.account,
      domain: { name: "EVM Payment Channel", version: "1", chainId, verifyingContract: escrow.address },
      types: { Voucher: [{ name: "channelId", type: "bytes32" }, { name: "cumulativeAmount", type: "uint128" }] },
      primaryType: "Voucher",
      message: { channelId, cumulativeAmount },
    });

  // The escrow already holds a balance before the measured calls.
  await open(USDC);

  const first = await open(100n * USDC);
  report.open = first.gas;

  await approve(50n * USDC);
  report.topUp = await gasOf(await write(payer, escrow, "topUp", [first.channelId, 50n * USDC]));

  report.settle = await gasOf(
    await write(payee, escrow, "settle", [first.channelId, 10n * USDC, await sign(first.channelId, 10n * USDC)]),
  );
  report.close = await gasOf(
    await write(payee, escrow, "close", [first.channelId, 25n * USDC, await sign(first.channelId, 25n * USDC)]),
  );

  const forced = await open(100n * USDC);
  await gasOf(await write(payee, escrow, "settle", [forced.channelId, USDC, await sign(forced.channelId, USDC)]));
  report.requestClose = await gasOf(await write(payer, escrow, "requestClose", [forced.channelId]));
  await increaseTime(Number(await publicClient.readContract({ ...escrow, functionName: "CLOSE_GRACE_PERIOD" })));
  report.withdraw = await gasOf(await write(payer, escrow, "withdraw", [forced.channelId]));

  for (const size of BATCH_SIZES) {
    const claims = [];
    for (let i = 0; i < size; i++) {
      const { channelId } = await open(10n * USDC);
      claims.push({ channelId, cumulativeAmount: 3n * USDC, signature: await sign(channelId, 3n * USDC) });
    }
    report[`settleBatch (${size} channel${size === 1 ? "" : "s"})`] = await gasOf(
      await write(payee, escrow, "settleBatch", [token.address, claims]),
    );
  }
  return report;
}
