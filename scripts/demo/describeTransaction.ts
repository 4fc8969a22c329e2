// The demo's explorer, one transaction at a time: GET /tx/<hash> answers what the chain states about it
// (sender, contract, the escrow or token function called, status, gas), as JSON.
import { type Client, isHash } from "viem";
import { getTransaction, getTransactionReceipt } from "viem/actions";
import { PROBLEM_HEADERS, statusProblem } from "../../sdk/src/server/problemResponse.js";
import { functionName } from "./functionName.js";

export type DescribeTransactionParameters = { publicClient: Client; hash: string };

export async function describeTransaction({ publicClient, hash }: DescribeTransactionParameters): Promise<Response> {
  if (!isHash(hash)) return problem(400, "Bad Request", `${hash} is not a transaction hash (32 bytes of hex)`);
  let transaction, receipt;
  try {
    [transaction, receipt] = await Promise.all([getTransaction(publicClient, { hash }), getTransactionReceipt(publicClient, { hash })]);
  } catch {
    return problem(404, "Not Found", `The local chain has no mined transaction ${hash}`);
  }
  return new Response(
    JSON.stringify(
      {
        hash,
        status: receipt.status,
        blockNumber: receipt.blockNumber.toString(),
        from: transaction.from,
        to: transaction.to,
        function: functionName(transaction.input) ?? null,
        gasUsed: receipt.gasUsed.toString(),
      },
      null,
      2,
    ),
    { headers: { "content-type": "application/json" } },
  );
}

function problem(status: number, title: string, detail: string): Response {
  return new Response(JSON.stringify(statusProblem(status, title, detail)), { status, headers: PROBLEM_HEADERS });
}
