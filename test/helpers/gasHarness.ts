// The escrow's gas on Hardhat's EDR, for the benchmark (bench/results/gas.json) and the snapshot test, so the
// numbers a reviewer reads are the numbers the tests guard. The flow itself is scripts/gas/measureEscrowGas.ts.
import type { HardhatViemHelpers } from "@nomicfoundation/hardhat-viem/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import { type GasReport, measureEscrowGas as measureEscrowGasFlow } from "../../scripts/gas/measureEscrowGas.js";

export async function measureEscrowGas(viem: HardhatViemHelpers, networkHelpers: NetworkHelpers): Promise<GasReport> {
  const publicClient = await viem.getPublicClient();
  const [payer, payee] = (await viem.getWalletClients()).slice(1, 3);
  if (!payer || !payee) throw new Error("the gas harness needs three accounts");
  // MockStablecoin is OZ's ERC20 plus a mint, compiled with the escrow.
  const token = await viem.deployContract("MockStablecoin", ["Mock USD Coin", "USDC"]);
  const escrow = await viem.deployContract("TollgateEscrow");
  return measureEscrowGasFlow({
    publicClient,
    payer,
    payee,
    escrow,
    token,
    async fund({ to, amount }) {
      await publicClient.waitForTransactionReceipt({ hash: await token.write.mint([to, amount]) });
    },
    async increaseTime(seconds) {
      await networkHelpers.time.increase(seconds);
    },
  });
}
