import { type Address, erc20Abi, parseAbi, toFunctionSelector } from "viem";
import { LOCAL_CHAIN_IDS } from "../../deployments/deployTollgate.js";
import { sendContractTransaction } from "../../transactions/sendContractTransaction.js";
import type { Command } from "../command.js";
import {
  CHAIN_OPTIONS,
  CHAIN_OPTIONS_HELP,
  checkAmountSyntax,
  type Connection,
  connect,
  loadAccount,
  noPositionals,
  parseAddressFlag,
  parseAmountFlag,
  readToken,
  stringOption,
  TRANSACTION_OPTIONS,
  TRANSACTION_OPTIONS_HELP,
  transactionOptions,
  walletFor,
} from "../context.js";
import { usageError } from "../errors.js";
import { fields, formatAmount } from "../output.js";

/** The test tokens' open mint: the repository's MockStablecoin has it, real USDC does not. */
const mintAbi = parseAbi(["function mint(address to, uint256 amount)"]);
const MINT_SELECTOR = toFunctionSelector(mintAbi[0]).slice(2);

export const mintCommand: Command = {
  name: "mint",
  summary: "mint local test tokens (the mock USDC's open mint) to an address",
  help: `Usage: tollgate mint --amount <tokens> [--to <address>] [--token <address>]

Calls mint(address,uint256) on a test token from the account of $TOLLGATE_PRIVATE_KEY: on the local chain
(31337) the mock USDC lets any account mint. On other chains it refuses unless the token's code has a
mint(address,uint256) function (real USDC has none), and the token decides who may call it.

Options:
  --amount <tokens>      whole tokens in the token's decimals, e.g. 100 or 2.50
  --to <address>         who receives them (default: the account of $TOLLGATE_PRIVATE_KEY)
  --token <address>      the token (default: the mock USDC of the bundled local deployment)

${CHAIN_OPTIONS_HELP}

${TRANSACTION_OPTIONS_HELP}`,
  options: { ...CHAIN_OPTIONS, ...TRANSACTION_OPTIONS, amount: { type: "string" }, to: { type: "string" }, token: { type: "string" } },
  async run(context) {
    noPositionals(context);
    const amountFlag = stringOption(context, "amount");
    if (amountFlag === undefined) throw usageError("missing --amount <tokens>");
    checkAmountSyntax("--amount", amountFlag);
    const toFlag = stringOption(context, "to");
    const tokenFlag = stringOption(context, "token");
    const flaggedTo = toFlag === undefined ? undefined : parseAddressFlag("--to", toFlag);
    const flaggedToken = tokenFlag === undefined ? undefined : parseAddressFlag("--token", tokenFlag);
    const options = transactionOptions(context);
    const account = loadAccount(context);
    const to = flaggedTo ?? account.address;

    const connection = await connect(context);
    const tokenAddress = flaggedToken ?? defaultTestToken(connection);
    if (!LOCAL_CHAIN_IDS.has(connection.chainId) && !(await hasMint(connection, tokenAddress))) {
      throw usageError(`chain ${connection.chainId} is not a local chain and the token ${tokenAddress} has no mint(address,uint256): get test tokens from its faucet`);
    }
    const token = await readToken(connection, tokenAddress);
    const amount = parseAmountFlag("--amount", amountFlag, token);
    context.log(`minting ${formatAmount(amount, token)} to ${to}…`);
    const { hash, receipt } = await sendContractTransaction({
      client: walletFor(connection, account),
      publicClient: connection.publicClient,
      address: tokenAddress,
      abi: mintAbi,
      functionName: "mint",
      args: [to, amount],
      ...options,
    });
    const balance = await connection.publicClient.readContract({ address: tokenAddress, abi: erc20Abi, functionName: "balanceOf", args: [to] });
    return {
      json: { chainId: connection.chainId, token, to, amount, balance, transactionHash: hash, blockNumber: receipt.blockNumber },
      human: fields([
        ["minted", `${formatAmount(amount, token)} to ${to}`],
        ["balance", formatAmount(balance, token)],
        ["transaction", `${hash} (block ${receipt.blockNumber})`],
      ]),
    };
  },
};

function defaultTestToken(connection: Connection): Address {
  const token = connection.deployment?.contracts.MockStablecoin?.address;
  if (token === undefined) throw usageError(`no test token bundled for chain ${connection.chainId}: pass --token <address>`);
  return token;
}

/** Whether the token's runtime code dispatches on mint(address,uint256)'s selector (PUSH4 <selector>). */
async function hasMint(connection: Connection, token: Address): Promise<boolean> {
  const code = (await connection.publicClient.getCode({ address: token })) ?? "0x";
  return code.toLowerCase().includes(`63${MINT_SELECTOR}`);
}
