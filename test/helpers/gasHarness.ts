// One harness measures the escrow's gas for both the benchmark (bench/results/gas.json) and the
// snapshot test, so the numbers a reviewer reads are the numbers the tests guard.
//
// Set-up, as in the reference measurements: a plain 6-decimal ERC-20 (MockStablecoin, OZ ERC20);
// payer, payee and escrow already hold some of it; the payer approves exactly what each call pulls,
// as the SDK does. Each figure is the transaction's `gasUsed` (21,000 base and calldata included).
import type { Address, Hex } from "viem";
import { encodeAbiParameters, keccak256, parseAbiParameters } from "viem";
import type { HardhatViemHelpers } from "@nomicfoundation/hardhat-viem/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";

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

export async function measureEscrowGas(viem: HardhatViemHelpers, networkHelpers: NetworkHelpers): Promise<GasReport> {
  const publicClient = await viem.getPublicClient();
  const [payer, payee] = (await viem.getWalletClients()).slice(1, 3);
  if (!payer || !payee) throw new Error("the gas harness needs three accounts");
  const token = await viem.deployContract("MockStablecoin", ["Mock USD Coin", "USDC"]);
  const escrow = await viem.deployContract("TollgateEscrow");
  const report: GasReport = {};
  let saltCounter = 0n;
  const nextSalt = (): Hex => keccak256(encodeAbiParameters(parseAbiParameters("uint256"), [++saltCounter]));

  const gasOf = async (hash: Hex) => (await publicClient.waitForTransactionReceipt({ hash })).gasUsed;
  const asPayer = { account: payer.account };
  const asPayee = { account: payee.account };

  await gasOf(await token.write.mint([payer.account.address, 1_000_000n * USDC]));
  await gasOf(await token.write.mint([payee.account.address, USDC]));

  const approve = async (amount: bigint) => gasOf(await token.write.approve([escrow.address, amount], asPayer));
  const open = async (deposit: bigint) => {
    await approve(deposit);
    const salt = nextSalt();
    const gas = await gasOf(
      await escrow.write.open([payee.account.address, token.address, deposit, salt, ZERO_ADDRESS], asPayer),
    );
    const channelId = await escrow.read.computeChannelId([
      payer.account.address,
      payee.account.address,
      token.address,
      salt,
      ZERO_ADDRESS,
    ]);
    return { gas, channelId };
  };
  const sign = (channelId: Hex, cumulativeAmount: bigint) =>
    payer.signTypedData({
      domain: { name: "EVM Payment Channel", version: "1", chainId: 31337, verifyingContract: escrow.address },
      types: { Voucher: [{ name: "channelId", type: "bytes32" }, { name: "cumulativeAmount", type: "uint128" }] },
      primaryType: "Voucher",
      message: { channelId, cumulativeAmount },
    });

  // The escrow already holds a balance before the measured calls.
  await open(USDC);

  const first = await open(100n * USDC);
  report.open = first.gas;

  await approve(50n * USDC);
  report.topUp = await gasOf(await escrow.write.topUp([first.channelId, 50n * USDC], asPayer));

  report.settle = await gasOf(
    await escrow.write.settle([first.channelId, 10n * USDC, await sign(first.channelId, 10n * USDC)], asPayee),
  );
  report.close = await gasOf(
    await escrow.write.close([first.channelId, 25n * USDC, await sign(first.channelId, 25n * USDC)], asPayee),
  );

  const forced = await open(100n * USDC);
  await gasOf(await escrow.write.settle([forced.channelId, USDC, await sign(forced.channelId, USDC)], asPayee));
  report.requestClose = await gasOf(await escrow.write.requestClose([forced.channelId], asPayer));
  await networkHelpers.time.increase(Number(await escrow.read.CLOSE_GRACE_PERIOD()));
  report.withdraw = await gasOf(await escrow.write.withdraw([forced.channelId], asPayer));

  for (const size of BATCH_SIZES) {
    const claims = [];
    for (let i = 0; i < size; i++) {
      const { channelId } = await open(10n * USDC);
      claims.push({ channelId, cumulativeAmount: 3n * USDC, signature: await sign(channelId, 3n * USDC) });
    }
    report[`settleBatch (${size} channel${size === 1 ? "" : "s"})`] = await gasOf(
      await escrow.write.settleBatch([token.address, claims], asPayee),
    );
  }
  return report;
}

const ZERO_ADDRESS: Address = "0x0000000000000000000000000000000000000000";
