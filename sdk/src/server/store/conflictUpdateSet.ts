export type ConflictUpdateSetParameters = {
  columns: readonly string[];
  /** The conflict target's columns, which keep their stored values. */
  key: readonly string[];
};

/**
 * The SET list of an `ON CONFLICT (key) DO UPDATE` (the same in SQLite and PostgreSQL) that takes
 * every other column from the row that was to be inserted.
 */
export function conflictUpdateSet({ columns, key }: ConflictUpdateSetParameters): string {
  return columns
    .filter((column) => !key.includes(column))
    .map((column) => `${column} = excluded.${column}`)
    .join(", ");
}
