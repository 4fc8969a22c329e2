import type { SqliteConnections } from "./createSqliteConnections.js";
import type { SqliteTransactions } from "./createSqliteTransactions.js";
import type { SqliteStatements } from "./prepareSqliteStatements.js";
import type { SessionStore } from "./SessionStore.js";
import { PAYMENT_COLUMNS, paymentFromRow, paymentParams } from "./sqlRecordCodec.js";

export type CreateSqlitePaymentsParameters = {
  statements: SqliteStatements;
  transactions: SqliteTransactions;
  connections: SqliteConnections;
};

export type SqlitePayments = Pick<SessionStore, "insertPayment" | "updatePayment" | "listPayments">;

/** The store's one-time payments: each write its own transaction, lists read through the read connection. */
export function createSqlitePayments({ statements, transactions, connections }: CreateSqlitePaymentsParameters): SqlitePayments {
  const { writeOnce } = transactions;
  const { read, readStatement } = connections;
  return {
    insertPayment: (payment) => writeOnce(() => statements.insertPayment.run(...paymentParams(payment)).changes === 1),
    updatePayment: (payment) => writeOnce(() => void statements.updatePayment.run(...paymentParams(payment))),
    async listPayments({ status, updatedBefore, payer } = {}) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (status !== undefined) (where.push("status = ?"), params.push(status));
      if (updatedBefore !== undefined) (where.push("updated_at < ?"), params.push(updatedBefore));
      if (payer !== undefined) (where.push("payer = ?"), params.push(payer));
      const sql = `SELECT ${PAYMENT_COLUMNS.join(", ")} FROM payments ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, key`;
      return read(() => readStatement(sql).all(...params).map(paymentFromRow));
    },
  };
}
